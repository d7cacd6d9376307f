// The GDCM bridge, bulk data: one bulk element's value, by tag path.
#include "dicom/dcm_internal.hh"

// ---- bulk data ----------------------------------------------------------

extern "C" int dcm_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth,
			      struct buf *out)
{
	quiet_gdcm();
	try {
		gdcm::Reader r;
		r.SetFileName(path);
		std::set<gdcm::Tag> skip = { gdcm::Tag(0x7fe0, 0x0010) };
		if (depth == 0 || !r.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip))
			return -1;
		const gdcm::FileMetaInformation &h = r.GetFile().GetHeader();
		bool swap = h.GetDataSetTransferSyntax().GetSwapCode() == gdcm::SwapCode::BigEndian;
		const gdcm::DataSet *ds = &r.GetFile().GetDataSet();
		for (size_t d = 0;; d++) {
			gdcm::Tag t((uint16_t)(tags[d] >> 16), (uint16_t)(tags[d] & 0xffff));
			if (!ds->FindDataElement(t))
				return 0;
			const gdcm::DataElement &de = ds->GetDataElement(t);
			gdcm::VR vr = element_vr(de, *ds);
			if (d + 1 == depth) {
				const gdcm::ByteValue *bv = de.GetByteValue();
				if (!is_bulk(vr) || !bv)
					return 0;
				size_t at = out->len, n = bv->GetLength();
				buf_add(out, bv->GetPointer(), n);
				// little endian, as explicit VR little endian has it
				size_t w = vr == gdcm::VR::OW ? 2 : (vr == gdcm::VR::OF || vr == gdcm::VR::OL) ? 4
					   : (vr == gdcm::VR::OD || vr == gdcm::VR::OV)			    ? 8
												    : 1;
				if (swap && w > 1)
					for (size_t i = 0; i + w <= n; i += w)
						std::reverse(out->data + at + i, out->data + at + i + w);
				return 1;
			}
			gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
			if (!sq || items[d] < 1 || (size_t)items[d] > sq->GetNumberOfItems())
				return 0;
			ds = &sq->GetItem((gdcm::SequenceOfItems::SizeType)items[d]).GetNestedDataSet();
		}
	} catch (...) {
		return -1;
	}
}
