// The GDCM bridge, writing files: through a stream that does not go bad,
// so that a full disk is an answer (DCM_NO_ROOM), not GDCM's assertion.
#include "dicom/dcm_internal.hh"

#include <cerrno>
#include <fcntl.h>
#include <ostream>
#include <streambuf>
#include <unistd.h>

extern "C" {
#include "common/util.h"
}

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
		if (!error_ && !util_write_full(fd_, pbase(), (size_t)(pptr() - pbase())))
			error_ = errno;
		setp(buf_, buf_ + sizeof(buf_));
	}
	int fd_;
	int error_ = 0;
	char buf_[1 << 16];
};
} // namespace

int bridge::write_file(gdcm::Writer &w, const char *path)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return DCM_NO_ROOM;
	sticky_file out(fd);
	std::ostream os(&out);
	w.SetStream(os);
	bool written = w.Write();
	int e = out.finish();
	if (close(fd) && !e)
		e = errno;
	if (e) // the host's fault (no room, an I/O error), not the file's
		return DCM_NO_ROOM;
	return written ? 0 : -1;
}
