// The GDCM bridge, bulk update: a file rewritten with some top-level
// attributes changed and everything else, pixel data included, as read.
#include "config.h"
#include "dicom/dcm_internal.hh"

using bridge::set_err;

int dcm_update(const char *src, const char *dst, const struct dcm_change *c, size_t n, char *err, size_t errlen)
{
	try {
		bridge::quiet_gdcm();
		gdcm::Reader r;
		r.SetFileName(src);
		if (!r.Read()) {
			set_err(err, errlen, "cannot read the stored file");
			return -1;
		}
		gdcm::DataSet &ds = r.GetFile().GetDataSet();
		for (size_t i = 0; i < n; i++) {
			gdcm::VR vr = gdcm::VR::GetVRType(c[i].vr);
			if (vr == gdcm::VR::INVALID || vr == gdcm::VR::SQ) {
				set_err(err, errlen, "a change has a VR that cannot be written");
				return -1;
			}
			std::string v = c[i].value ? c[i].value : "";
			if (v.size() % 2) // even length: UIDs pad with NUL, text with a space
				v.push_back(vr == gdcm::VR::UI ? '\0' : ' ');
			gdcm::DataElement de(gdcm::Tag((uint16_t)(c[i].tag >> 16), (uint16_t)(c[i].tag & 0xffff)));
			de.SetVR(vr);
			de.SetByteValue(v.data(), (uint32_t)v.size());
			ds.Replace(de);
		}
		// the file meta says who wrote it, as the service's does
		gdcm::FileMetaInformation::SetImplementationClassUID(DCM_UPDATE_IMPLEMENTATION_UID);
		gdcm::FileMetaInformation::SetImplementationVersionName("ADE_" PACKAGE_VERSION);
		gdcm::FileMetaInformation &meta = r.GetFile().GetHeader();
		meta.Remove(gdcm::Tag(0x0002, 0x0012));
		meta.Remove(gdcm::Tag(0x0002, 0x0013));
		gdcm::Writer w;
		w.SetFile(r.GetFile());
		int written = write_file(w, dst);
		if (written)
			set_err(err, errlen, "cannot write the updated file");
		return written;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		return -1;
	}
}
