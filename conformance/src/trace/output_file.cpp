#include "vmref/trace/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vmref::trace {

namespace fs = std::filesystem;

void refuse_same_file(const std::string& out, const std::vector<std::string>& inputs) {
  struct stat o {};
  if (::stat(out.c_str(), &o) != 0) return;  // does not exist yet: cannot be an input
  for (const std::string& in : inputs) {
    struct stat i {};
    if (::stat(in.c_str(), &i) == 0 && i.st_dev == o.st_dev && i.st_ino == o.st_ino)
      throw OutputError(out + ": is the same file as the input " + in + "; refusing to overwrite it");
  }
}

OutputFile::OutputFile(const std::string& path) : path_(path), target_(path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);  // a symlink's target keeps being a symlink's target
  if (!ec) target_ = p.string();
  struct stat st {};
  bool exists = ::stat(target_.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {  // a device or a pipe: no rename possible
    fd_ = ::open(target_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open for writing");
    return;
  }
  std::string dir = fs::path(target_).parent_path().string();
  // mkstemp's template: a hidden sibling ".NAME.tmp.XXXXXX", the X's replaced by a unique suffix.
  tmp_ = (dir.empty() ? std::string(".") : dir) + "/." + fs::path(target_).filename().string() + ".tmp.XXXXXX";
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) {
    tmp_.clear();
    fail("cannot create");
  }
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, exists ? (st.st_mode & 07777) : (0666 & ~mask));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void OutputFile::fail(const std::string& what) const {
  throw OutputError(path_ + ": " + what + ": " + std::strerror(errno));
}

void OutputFile::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write failed");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void OutputFile::pwrite(const void* data, std::size_t n, std::uint64_t off) {
  if (::pwrite(fd_, data, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) fail("write failed");
}

void OutputFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("cannot set the size");
}

void OutputFile::commit() {
  if (committed_) return;
  if (!tmp_.empty() && ::fsync(fd_) != 0) fail("write failed");
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) fail("write failed");
  if (!tmp_.empty() && ::rename(tmp_.c_str(), target_.c_str()) != 0) fail("cannot rename the finished file into place");
  committed_ = true;
}

void write_file(const std::string& path, const std::string& text) {
  OutputFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace vmref::trace
