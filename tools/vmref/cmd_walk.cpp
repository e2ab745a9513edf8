// vmref walk : decode the page tables in a raw physical-memory image (QEMU pmemsave)
// and list the mappings, as QEMU `info tlb` and Linux ptdump list them.
#include <fmt/format.h>
#include <strings.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <functional>
#include <set>

#include "commands.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/trace/fields.hpp"
#include "vmref/trace/line_io.hpp"
#include "vmref/trace/output_file.hpp"

namespace vmref::cli {

namespace {
struct WalkArgs {
  std::string arch, mem, format = "json", tables_out, root;
  std::uint64_t base = 0;
  std::map<std::string, unsigned> params;
};

/// A zstd-compressed image, decompressed into an unlinked temporary file (in the
/// system's temporary directory: TMPDIR, else /tmp) that stays readable through the
/// descriptor's /proc path: an image may be larger than memory, so it goes to disk,
/// never wholly into RAM, and stops before it would leave that disk with less than
/// kKeepFree bytes free (a small file can claim terabytes).
constexpr std::uint64_t kKeepFree = 1ull << 30, kCheckEvery = 64ull << 20;

struct TempImage {
  int fd = -1;
  std::string path;  ///< /proc/self/fd/N
  ~TempImage() {
    if (fd >= 0) ::close(fd);
  }
};

std::unique_ptr<TempImage> decompress_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (!in || !trace::zstd_start(magic, 4)) return nullptr;
  in.seekg(0);
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::string tmpl = (dir / "vmref-image-XXXXXX").string();
  auto img = std::make_unique<TempImage>();
  img->fd = ::mkstemp(tmpl.data());
  if (img->fd < 0) throw std::runtime_error(path + ": cannot create a temporary file in " + tmpl + ": " + std::strerror(errno));
  ::unlink(tmpl.c_str());  // gone when the descriptor closes, whatever happens
  img->path = "/proc/self/fd/" + std::to_string(img->fd);
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> z(ZSTD_createDStream(), ZSTD_freeDStream);
  std::vector<char> ib(ZSTD_DStreamInSize()), ob(ZSTD_DStreamOutSize());
  std::size_t last = 0;
  std::uint64_t written = 0, checked_at = 0;
  while (in.read(ib.data(), static_cast<std::streamsize>(ib.size())) || in.gcount() > 0) {
    ZSTD_inBuffer zi{ib.data(), static_cast<std::size_t>(in.gcount()), 0};
    while (zi.pos < zi.size) {
      ZSTD_outBuffer zo{ob.data(), ob.size(), 0};
      last = ZSTD_decompressStream(z.get(), &zo, &zi);
      if (ZSTD_isError(last)) throw std::runtime_error(path + ": corrupt zstd image: " + ZSTD_getErrorName(last));
      if (::write(img->fd, ob.data(), zo.pos) != static_cast<ssize_t>(zo.pos))
        throw std::runtime_error(path + ": cannot write the decompressed image: " + std::strerror(errno));
      written += zo.pos;
      if (written - checked_at >= kCheckEvery) {  // one statvfs per 64 MiB
        checked_at = written;
        if (std::filesystem::space(dir).available < kKeepFree)
          throw std::runtime_error(fmt::format("{}: the image grows past {} bytes and would fill {}", path, written, dir.string()));
      }
    }
  }
  if (last != 0) throw std::runtime_error(path + ": truncated zstd image (the last frame does not end)");
  return img;
}

/// The root register's value: a number, or NAME=number as a dump script writes it
/// ("cr3=0x1234000"), NAME being the format's root register, in any case.
std::uint64_t parse_root(const std::string& text, const impl::FormatInfo& f) {
  std::string v = text;
  if (auto eq = v.find('='); eq != std::string::npos) {
    std::string name = v.substr(0, eq);
    if (strcasecmp(name.c_str(), f.root_name.c_str()) != 0)
      throw std::invalid_argument("--root: '" + name + "' is not " + f.name + "'s root register (" + f.root_name + ")");
    v = v.substr(eq + 1);
  }
  std::size_t used = 0;
  std::uint64_t out = 0;
  try {
    out = std::stoull(v, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || v[0] == '-')
    throw std::invalid_argument("--root: '" + text + "' is not a number (or " + f.root_name + "=number)");
  return out;
}

/// Every listing style a format offers, for the --format choice list.
std::vector<std::string> listing_choices() {
  std::vector<std::string> out{"json"};
  for (const impl::FormatInfo* f : impl::all_formats())
    for (const auto& [name, fn] : f->listings) out.push_back(name);
  return out;
}

/// Copies the visited table pages into a sparse image of the same layout, so a dump can
/// be kept small: the walk reads nothing else.
void write_tables(const std::string& path, const impl::ImageFile& img, const std::set<std::uint64_t>& tables) {
  trace::OutputFile out(path);  // complete or absent: never a half-written image
  out.truncate(img.size());
  for (std::uint64_t pa : tables) {
    unsigned char page[4096];
    for (unsigned i = 0; i < 4096; i += 8) {
      std::uint64_t v = 0;
      img.read_u64(pa + i, v);
      std::memcpy(page + i, &v, 8);
    }
    out.pwrite(page, sizeof page, pa - img.base());
  }
  out.commit();
}
}  // namespace

Runner add_walk(CLI::App& app) {
  auto a = std::make_shared<WalkArgs>();
  auto* c = app.add_subcommand("walk", "Decode the page tables in a raw physical-memory image and list the mappings");
  a->arch = default_format();
  c->add_option("--arch", a->arch, "Page-table format (see `vmref fuzz --list-archs`)")->check(CLI::IsMember(format_choices()))
      ->capture_default_str();
  c->add_option("--mem", a->mem, "Raw physical-memory image (byte offset = physical address - base)")->required()->check(CLI::ExistingFile);
  c->add_option("--root", a->root, "The root register's value, e.g. CR3, as a number or as cr3=0x... "
                                   "(bits that are not the root's address are ignored)")->required();
  c->add_option("--base", a->base, "Physical address of the image's first byte")->capture_default_str();
  add_format_options(c, a->params);
  c->add_option("--format", a->format, "json: merged regions {va,pa,size,flags}; or a format's own listing in an emulator's "
                                       "style, e.g. qemu-tlb as QEMU `info tlb` (spec/formats/<arch>.md)")
      ->check(CLI::IsMember(listing_choices()))->capture_default_str();
  c->add_option("--tables-out", a->tables_out, "Also write a sparse image holding only the page-table pages visited");
  return [a] {
    const impl::FormatInfo& format = impl::format_or_throw(a->arch);
    impl::FormatConfig cfg;
    cfg.params = a->params;
    std::unique_ptr<impl::Listing> listing;
    if (a->format != "json") {
      auto it = format.listings.find(a->format);
      if (it == format.listings.end()) throw std::invalid_argument("format " + format.name + " has no " + a->format + " listing");
      listing = it->second(cfg);
    }
    if (!a->tables_out.empty()) trace::refuse_same_file(a->tables_out, {a->mem});
    std::uint64_t root = format.root_address(parse_root(a->root, format), cfg);
    std::unique_ptr<TempImage> unpacked = decompress_image(a->mem);  // a .zst image
    impl::ImageFile img(unpacked ? unpacked->path : a->mem, a->base);
    std::unique_ptr<impl::RadixCodec> fmt = format.decoder(cfg);
    std::uint64_t probe;
    if (!img.read_u64(root, probe))
      throw std::runtime_error(fmt::format("{}: root table at 0x{:x} lies outside the image ({} bytes from 0x{:x})", a->mem, root, img.size(), a->base));
    std::uint64_t leaves = 0, regions = 0, reserved = 0, truncated = 0, aliased = 0;
    bool have = false;
    nlohmann::ordered_json cur;
    std::uint64_t cur_va = 0, cur_pa = 0, cur_size = 0;
    std::string cur_flags;
    auto flush = [&] {
      if (!have) return;
      std::cout << nlohmann::ordered_json{{"va", trace::hex(cur_va)}, {"pa", trace::hex(cur_pa)},
                                          {"size", trace::hex(cur_size)}, {"flags", cur_flags}}.dump() << "\n";
      ++regions;
      have = false;
    };
    std::set<std::uint64_t> tables;
    const std::function<void(const impl::Leaf&)> on_leaf =
        [&](const impl::Leaf& l) {
          ++leaves;
          if (listing) {
            std::cout << listing->leaf(l);
            return;
          }
          std::string f = format.leaf_flags(l);
          if (have && cur_va + cur_size == l.va && cur_pa + cur_size == l.pa && cur_flags == f) {
            cur_size += l.size;  // neighbours contiguous in VA and PA with equal flags merge
            return;
          }
          flush();
          have = true;
          cur_va = l.va, cur_pa = l.pa, cur_size = l.size, cur_flags = f;
        };
    const std::function<void(const impl::WalkIssue&)> on_issue =
        [&](const impl::WalkIssue& i) {
          switch (i.kind) {
            case impl::WalkIssueKind::outside_image: ++truncated; break;
            case impl::WalkIssueKind::aliased_table: ++aliased; break;
            case impl::WalkIssueKind::reserved_bits: ++reserved; break;
          }
          std::cerr << fmt::format("{}: level {} entry at PA 0x{:x} (va 0x{:x}): {}\n", a->mem, i.level, i.entry_pa, i.va, i.what);
        };
    if (format.walk) {
      format.walk(img, root, cfg, on_leaf, on_issue);  // the format's own walk (e.g. a GPU dual PDE)
    } else {
      impl::walk_all(img, *fmt, root, on_leaf, on_issue, a->tables_out.empty() ? nullptr : &tables,
                     // Shared tables (Linux's ESPFIX area) are listed under every entry, as QEMU `info tlb`
                     // lists them, for up to as many re-read entries as the image holds: a hostile image
                     // costs at most twice its size in entries, not 512^levels.
                     img.size() / 8);
    }
    flush();
    if (listing) std::cout << listing->end();
    if (!a->tables_out.empty()) write_tables(a->tables_out, img, tables);
    std::cerr << fmt::format("{}: {} leaves, {} regions, {} table pages, {} entries with reserved bits, "
                             "{} aliased table entries not followed, {} unreadable\n",
                             a->mem, leaves, a->format == "json" ? regions : leaves, tables.size(), reserved, aliased, truncated);
    if (truncated) return kExitBadInput;
    // An entry not followed (a cycle, or sharing past the budget) leaves leaves unlisted.
    return reserved || aliased ? kExitFindings : kExitClean;
  };
}

}  // namespace vmref::cli
