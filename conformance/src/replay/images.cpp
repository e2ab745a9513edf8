#include "images.hpp"

#include <filesystem>
#include <system_error>

#include "vmref/trace/output_file.hpp"

namespace vmref::conformance {

std::vector<WrittenImage> write_images(const impl::Vmm& vmm, const std::string& dir, const std::string& core_format,
                                       const std::string& trace) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw trace::OutputError(dir + ": cannot create the images folder: " + ec.message());
  const std::vector<impl::MemoryImage> images = vmm.images();
  auto path_of = [&](const impl::MemoryImage& m) { return (std::filesystem::path(dir) / (m.name + ".img")).string(); };
  for (const impl::MemoryImage& m : images)  // before any is written: e.g. a trace named vram.img in DIR
    trace::refuse_same_file(path_of(m), {trace});
  std::vector<WrittenImage> out;
  for (const impl::MemoryImage& m : images) {
    WrittenImage w;
    w.path = path_of(m);
    w.format = m.format.empty() ? core_format : m.format;
    w.roots = m.roots;
    trace::OutputFile f(w.path);
    f.truncate(m.mem->end_pfn() * 4096);
    for (std::uint64_t pfn = 0; pfn < m.mem->end_pfn(); ++pfn)  // holes stay unwritten: zero on reading
      if (const std::uint64_t* page = m.mem->find(pfn)) f.pwrite(page, 4096, pfn * 4096);
    f.commit();
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace vmref::conformance
