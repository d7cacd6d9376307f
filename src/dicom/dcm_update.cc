// The GDCM bridge, bulk update: a file rewritten with some top-level
// attributes changed and everything else, pixel data included, as read.
#include "config.h"
#include "dicom/dcm_internal.hh"

#include <cerrno>
#include <fcntl.h>
#include <ostream>
#include <streambuf>
#include <unistd.h>

using bridge::set_err;

namespace
{
// A file's output that never goes bad: GDCM asserts (aborts) when its
// stream fails mid-write, as on a full disk. The first write error is
// kept (errno) and what follows is dropped; the caller asks after.
class sticky_file : public std::streambuf
{
      public:
	explicit sticky_file(int fd) : fd_(fd)
	{
		setp(buf_, buf_ + sizeof(buf_));
	}
	int error() const
	{
		return error_;
	}
	// what is still buffered, out; the file's first write error or 0
	int finish()
	{
		drain();
		return error_;
	}

      protected:
	int_type overflow(int_type ch) override
	{
		drain();
		if (!traits_type::eq_int_type(ch, traits_type::eof())) {
			*pptr() = traits_type::to_char_type(ch);
			pbump(1);
		}
		return traits_type::not_eof(ch);
	}
	int sync() override
	{
		drain();
		return 0;
	}

      private:
	void drain()
	{
		const char *p = pbase();
		size_t left = (size_t)(pptr() - pbase());
		while (left && !error_) {
			ssize_t n = ::write(fd_, p, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				error_ = n < 0 ? errno : ENOSPC;
				break;
			}
			p += n;
			left -= (size_t)n;
		}
		setp(buf_, buf_ + sizeof(buf_));
	}
	int fd_;
	int error_ = 0;
	char buf_[1 << 16];
};
} // namespace

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
		int fd = open(dst, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0) {
			set_err(err, errlen, "cannot write the updated file");
			return DCM_UPDATE_NO_ROOM;
		}
		sticky_file out(fd);
		std::ostream os(&out);
		gdcm::Writer w;
		w.SetStream(os);
		w.SetFile(r.GetFile());
		bool written = w.Write();
		int e = out.finish();
		if (close(fd) && !e)
			e = errno;
		if (e) { // the host's fault (no room, an I/O error), not the file's
			set_err(err, errlen, "cannot write the updated file");
			return DCM_UPDATE_NO_ROOM;
		}
		if (!written) {
			set_err(err, errlen, "cannot write the updated file");
			return -1;
		}
		return 0;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		return -1;
	}
}
