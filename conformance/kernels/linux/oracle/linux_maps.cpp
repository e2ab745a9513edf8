#include "linux_maps.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vmref/trace/codec.hpp"

namespace vmref::oracle {

bool LinuxVma::has(const char* flag) const {
  return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

bool LinuxVma::is_file() const {
  return inode != 0 && path.rfind("/dev/zero", 0) != 0 && path.rfind("/SYSV", 0) != 0;
}

namespace {

bool parse_header(const std::string& line, LinuxVma& v) {
  std::istringstream in(line);
  std::string range;
  if (!(in >> range >> v.perms >> std::hex >> v.offset >> v.dev >> std::dec >> v.inode)) return false;
  auto dash = range.find('-');
  if (dash == std::string::npos || v.perms.size() != 4) return false;
  try {
    v.start = std::stoull(range.substr(0, dash), nullptr, 16);
    v.end = std::stoull(range.substr(dash + 1), nullptr, 16);
  } catch (const std::exception&) {
    return false;
  }
  std::getline(in, v.path);
  v.path.erase(0, v.path.find_first_not_of(' '));
  return v.start < v.end;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<LinuxVma> parse_maps(const std::string& text, const std::string& origin) {
  std::vector<LinuxVma> out;
  std::istringstream in(text);
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    LinuxVma v;
    if (!parse_header(line, v)) throw std::runtime_error(origin + ":" + std::to_string(n) + ": malformed maps line");
    if (v.path != "[vsyscall]") out.push_back(v);
  }
  return out;
}

std::vector<LinuxVma> parse_smaps(const std::string& text, const std::string& origin) {
  std::vector<LinuxVma> out;
  std::istringstream in(text);
  std::string line;
  bool skip = false;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    auto colon = line.find(':');
    bool field = colon != std::string::npos && line.find(' ') > colon && line.find('-') > colon;
    if (!field) {
      LinuxVma v;
      if (!parse_header(line, v)) throw std::runtime_error(origin + ":" + std::to_string(n) + ": malformed smaps header");
      skip = v.path == "[vsyscall]";
      if (!skip) out.push_back(v);
      continue;
    }
    if (skip || out.empty()) continue;
    std::string key = line.substr(0, colon);
    std::istringstream vals(line.substr(colon + 1));
    if (key == "Anonymous") vals >> out.back().anonymous_kb;
    if (key == "VmFlags")
      for (std::string f; vals >> f;) out.back().vm_flags.push_back(f);
  }
  return out;
}

std::vector<LinuxVma> read_maps(int pid) {
  std::string p = "/proc/" + std::to_string(pid) + "/maps";
  return parse_maps(slurp(p), p);
}

std::vector<LinuxVma> read_smaps(int pid) {
  std::string p = "/proc/" + std::to_string(pid) + "/smaps";
  return parse_smaps(slurp(p), p);
}

std::string errno_name(long e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
  }
  return "E" + std::to_string(e);
}

nlohmann::json vsl_expectation(const std::vector<LinuxVma>& vmas, bool anon_facts) {
  nlohmann::json out = nlohmann::json::array();
  for (const LinuxVma& v : vmas) {
    nlohmann::json e{{"start", trace::hex(v.start)}, {"end", trace::hex(v.end)}, {"prot", v.perms.substr(0, 3)},
                     {"shared", v.perms[3] == 's'}};
    if (v.is_file()) {
      e["kind"] = "file";
      e["file"] = v.file_id();
      e["offset"] = trace::hex(v.offset);
    } else if (v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]") {
      e["kind"] = "special";
    } else {
      e["kind"] = "anon";
    }
    if (!v.path.empty() && v.path[0] == '[') e["name"] = v.path;
    if (anon_facts && v.perms[3] == 'p' && v.anonymous_kb > 0) e["anon_pages"] = true;
    out.push_back(e);
  }
  return out;
}

}  // namespace vmref::oracle
