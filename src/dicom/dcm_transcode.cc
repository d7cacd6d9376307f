// The GDCM bridge, transcoding: a file rewritten in another transfer
// syntax.
#include "dicom/dcm_internal.hh"

// ---- transcoding ------------------------------------------------------

// Rewrites the file at path with another PhotometricInterpretation.
static int relabel(const char *path, const char *pi, char *err, size_t errlen)
{
	gdcm::Reader r;
	r.SetFileName(path);
	if (!r.Read()) {
		set_err(err, errlen, "cannot read the transcoded file");
		return -1;
	}
	gdcm::DataElement de(gdcm::Tag(0x0028, 0x0004));
	de.SetVR(gdcm::VR::CS);
	de.SetByteValue(pi, (uint32_t)strlen(pi));
	r.GetFile().GetDataSet().Replace(de);
	gdcm::Writer w;
	w.SetFile(r.GetFile());
	w.CheckFileMetaInformationOff();
	int written = write_file(w, path);
	if (written)
		set_err(err, errlen, "cannot write the transcoded file");
	return written;
}

static bool is_lossy_jpeg(const gdcm::TransferSyntax &t)
{
	return t == gdcm::TransferSyntax::JPEGBaselineProcess1 || t == gdcm::TransferSyntax::JPEGExtendedProcess2_4;
}

// The filter's input: the image as read, or, for RLE colour wider than 8
// bits, decoded here and handed to GDCM as native data (native keeps it).
static bool set_input(gdcm::ImageChangeTransferSyntax &change, gdcm::ImageReader &ir,
		      gdcm::SmartPointer<gdcm::Image> &native, char *err, size_t errlen)
{
	if (!rle_colour_wide(ir.GetFile(), ir.GetImage())) {
		change.SetInput(ir.GetImage());
		return true;
	}
	std::vector<char> px;
	if (!rle_decode(ir.GetImage(), px)) {
		set_err(err, errlen, "the RLE data does not fit the image");
		return false;
	}
	native = new gdcm::Image(ir.GetImage());
	gdcm::DataElement pd(gdcm::Tag(0x7fe0, 0x0010));
	pd.SetVR(gdcm::VR::OW);
	pd.SetByteValue(px.data(), (uint32_t)px.size());
	native->SetDataElement(pd);
	native->SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
	native->SetPlanarConfiguration(0);
	change.SetInput(*native);
	return true;
}

// The encoders of the lossy syntaxes (GDCM's would otherwise write
// lossless bit streams under a lossy label).
struct lossy_codecs {
	gdcm::JPEGCodec jpeg;
	gdcm::JPEGLSCodec jpegls;
	gdcm::JPEG2000Codec j2k;
};

static void choose_codec(gdcm::ImageChangeTransferSyntax &change, const gdcm::TransferSyntax &target, lossy_codecs &c)
{
	if (is_lossy_jpeg(target)) {
		c.jpeg.SetLossless(false);
		c.jpeg.SetQuality(DCM_LOSSY_JPEG_QUALITY);
		change.SetUserCodec(&c.jpeg);
	} else if (target == gdcm::TransferSyntax::JPEGLSNearLossless) {
		c.jpegls.SetLossless(false);
		c.jpegls.SetLossyError(DCM_LOSSY_JPEGLS_ERROR);
		change.SetUserCodec(&c.jpegls);
	} else if (target == gdcm::TransferSyntax::JPEG2000) {
		c.j2k.SetRate(0, DCM_LOSSY_J2K_RATIO);
		change.SetUserCodec(&c.j2k);
	}
}

// PS3.3 C.7.6.1.1.5: once lossy, always marked lossy, with the method.
static void mark_lossy(gdcm::DataSet &ds, const gdcm::TransferSyntax &target)
{
	const char *method = target == gdcm::TransferSyntax::JPEGLSNearLossless ? "ISO_14495_1 "
			     : target == gdcm::TransferSyntax::JPEG2000	       ? "ISO_15444_1 "
										       : "ISO_10918_1 ";
	gdcm::DataElement flag(gdcm::Tag(0x0028, 0x2110)), m(gdcm::Tag(0x0028, 0x2114));
	flag.SetVR(gdcm::VR::CS);
	flag.SetByteValue("01", 2);
	m.SetVR(gdcm::VR::CS);
	m.SetByteValue(method, 12);
	ds.Replace(flag);
	ds.Replace(m);
}

// An image: its pixel data re-encoded, the rest of the file kept.
static int transcode_image(gdcm::ImageReader &ir, const gdcm::TransferSyntax &target, const char *dst, char *err,
			   size_t errlen)
{
	gdcm::ImageChangeTransferSyntax change;
	gdcm::SmartPointer<gdcm::Image> native; // (the filter keeps a counted reference to its input)
	lossy_codecs codecs;

	change.SetTransferSyntax(target);
	if (!set_input(change, ir, native, err, errlen))
		return -1;
	choose_codec(change, target, codecs);
	// GDCM labels 16-bit JPEG bit streams as baseline or extended (8 and
	// 12 bits at most): refused here rather than sent invalid
	if (is_lossy_jpeg(target) && ir.GetImage().GetPixelFormat().GetBitsAllocated() != 8) {
		set_err(err, errlen, "lossy JPEG needs 8-bit samples");
		return -1;
	}
	if (!change.Change()) {
		set_err(err, errlen, "the pixel data cannot be transcoded");
		return -1;
	}
	if (target.IsLossy())
		mark_lossy(ir.GetFile().GetDataSet(), target);
	gdcm::ImageWriter w;
	w.SetFile(ir.GetFile());
	w.SetImage(change.GetOutput());
	int written = write_file(w, dst);
	if (written) {
		set_err(err, errlen, "cannot write the transcoded file");
		return written;
	}
	// GDCM's lossy JPEG encoder stores colour as YCbCr (libjpeg's default)
	// but keeps the label RGB: the label is put right
	if (is_lossy_jpeg(target) &&
	    change.GetOutput().GetPhotometricInterpretation() == gdcm::PhotometricInterpretation::RGB)
		return relabel(dst, "YBR_FULL_422", err, errlen);
	return 0;
}

// No image: only a change of encoding (explicit or implicit VR) is possible.
static int transcode_dataset(const char *src, const char *dst, const char *ts, const gdcm::TransferSyntax &target,
			     char *err, size_t errlen)
{
	if (target != gdcm::TransferSyntax::ExplicitVRLittleEndian &&
	    target != gdcm::TransferSyntax::ImplicitVRLittleEndian) {
		set_err(err, errlen, "an instance without pixel data can only be sent uncompressed");
		return -1;
	}
	gdcm::Reader r;
	r.SetFileName(src);
	if (!r.Read()) {
		set_err(err, errlen, "The DICOM instance is invalid.");
		return -1;
	}
	gdcm::FileExplicitFilter fef;
	fef.SetFile(r.GetFile());
	if (target == gdcm::TransferSyntax::ExplicitVRLittleEndian && !fef.Change()) {
		set_err(err, errlen, "cannot make the data set explicit");
		return -1;
	}
	gdcm::FileMetaInformation &h = r.GetFile().GetHeader();
	h.SetDataSetTransferSyntax(target);
	gdcm::DataElement tsde(gdcm::Tag(0x0002, 0x0010));
	tsde.SetVR(gdcm::VR::UI);
	std::string uid = ts;
	if (uid.size() % 2)
		uid.push_back('\0');
	tsde.SetByteValue(uid.data(), (uint32_t)uid.size());
	h.Replace(tsde);
	gdcm::Writer w;
	w.SetFile(r.GetFile());
	// the meta header is rebuilt (group length, syntax)
	int written = write_file(w, dst);
	if (written)
		set_err(err, errlen, "cannot write the transcoded file");
	return written;
}

extern "C" int dcm_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen)
{
	quiet_gdcm();
	try {
		gdcm::TransferSyntax target = gdcm::TransferSyntax::GetTSType(ts);
		if (target == gdcm::TransferSyntax::TS_END) {
			set_err(err, errlen, "unknown transfer syntax");
			return -1;
		}
		gdcm::ImageReader ir;
		ir.SetFileName(src);
		if (ir.Read())
			return transcode_image(ir, target, dst, err, errlen);
		return transcode_dataset(src, dst, ts, target, err, errlen);
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
	} catch (...) {
		set_err(err, errlen, "transcoding failed");
	}
	return -1;
}
