// Hostile and careless input (issue 13): limits, zstd framing, output safety, memory that
// follows the model's state rather than the trace. Each test names the rule it holds
// (spec/trace-format.md §1, §2, §4, §5).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "vmref/conformance/expect.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/json_text.hpp"
#include "vmref/trace/line_io.hpp"
#include "vmref/trace/trace_reader.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("vmref-hostile-" + name)).string(); }

std::string write_tmp(const std::string& name, const std::string& text) {
  std::string p = tmp(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string header(const std::string& extra = "") {
  return R"({"vmref_trace":1,"profile":")" + vocab::kernel_names().front() + "\"" + extra + "}";
}

/// Exactly `size` bytes of valid trace: a header, observe lines, blank-line padding.
std::string trace_of_size(std::size_t size) {
  std::string s = header() + "\n{\"op\":\"as_create\",\"as\":1}\n";
  const std::string ev = "{\"op\":\"observe\",\"as\":1}\n";
  while (s.size() + ev.size() <= size) s += ev;
  s.append(size - s.size(), '\n');
  return s;
}

std::size_t count_lines(trace::LineReader& r) {
  std::string line;
  std::size_t n = 0;
  while (r.next(line)) ++n;
  return n;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// §4: every decompressed size reads back, around each multiple of the 64 KiB read chunk
// and the 128 KiB zstd block and output buffer (sizes that once failed as "truncated").
TEST(TraceFormat_4_Storage, ZstdRoundTripsOnEveryBufferBoundary) {
  for (std::size_t k = 1; k <= 8; ++k)
    for (long d : {-1L, 0L, 1L}) {
      std::size_t size = k * 65536 + static_cast<std::size_t>(d);
      std::string text = trace_of_size(size);
      std::string p = tmp("boundary.jsonl.zst");
      {
        trace::LineWriter w(p, true);
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) w.write(line);
        w.close();
      }
      trace::LineReader r(p);
      EXPECT_EQ(count_lines(r), static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'))) << size;
      auto res = conformance::replay_file(p, {});
      EXPECT_EQ(res.error, "") << size;
    }
}

// §4: files the zstd tool wrote, several frames in one file, and skippable frames.
TEST(TraceFormat_4_Storage, ZstdToolMultiFrameAndSkippable) {
  std::string plain = trace_of_size(3 * 131072);
  std::string a = write_tmp("cli.jsonl", plain);
  if (std::system(("zstd -q -f " + a + " -o " + a + ".zst 2>/dev/null").c_str()) == 0) {
    auto res = conformance::replay_file(a + ".zst", {});
    EXPECT_EQ(res.error, "");
    EXPECT_GT(res.events, 1000u);
  }
  // Two frames (the trace cut in two) with skippable frames before, between and after.
  std::string half1 = plain.substr(0, plain.size() / 2), half2 = plain.substr(plain.size() / 2);
  auto frame = [](const std::string& text) {
    std::string p = tmp("part.zst");
    trace::LineWriter w(p, true);
    w.write(text.substr(0, text.size() - 1));  // text ends in '\n', which write() adds back
    w.close();
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string skip("\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);
  std::string both = skip + frame(half1 + "\n") + skip + frame(half2) + skip;
  // half1 ends mid-line: the frame boundary falls inside a line, which must still join.
  std::string p = write_tmp("multi.jsonl.zst", both);
  trace::LineReader r(p);
  std::size_t want = static_cast<std::size_t>(std::count(plain.begin(), plain.end(), '\n')) + 1;  // the cut line counts twice
  EXPECT_EQ(count_lines(r), want);
}

// §4: a file cut anywhere is an error naming the line being read, never a clean end.
TEST(TraceFormat_4_Storage, TruncatedZstdFailsWithItsLine) {
  std::string p = tmp("cut.jsonl.zst");
  {
    trace::LineWriter w(p, true);
    for (int i = 0; i < 200000; ++i) w.write("{\"op\":\"observe\",\"as\":" + std::to_string(i * 7919 % 100003) + "}");
    w.close();
  }
  auto size = fs::file_size(p);
  std::ifstream in(p, std::ios::binary);
  std::string all(std::istreambuf_iterator<char>(in), {});
  for (std::size_t cut : {std::size_t{5}, size / 3, size / 2, size - 1}) {
    std::string q = write_tmp("cut2.jsonl.zst", all.substr(0, cut));
    trace::LineReader r(q);
    try {
      count_lines(r);
      ADD_FAILURE() << "cut at " << cut << " read cleanly";
    } catch (const trace::TraceError& e) {
      EXPECT_NE(std::string(e.what()).find("truncated zstd"), std::string::npos) << e.what();
      EXPECT_EQ(e.line, r.line() + 1);
    }
  }
}

// §1: a line over the limit (and a stream with no newline at all) fails at that line.
TEST(TraceFormat_1_Limits, OverlongLineFailsNamingIt) {
  std::string p = write_tmp("long.jsonl", header() + "\n" + std::string(trace::kMaxLineBytes + 1, ' ') + "\n");
  auto r = conformance::replay_file(p, {});
  EXPECT_NE(r.error.find(":2: line longer than"), std::string::npos) << r.error;
  auto z = conformance::replay_file("/dev/zero", {});
  EXPECT_NE(z.error.find("/dev/zero:1: line longer than"), std::string::npos) << z.error;
}

// §1: nesting, duplicate keys and numbers out of range are errors naming line and key.
TEST(TraceFormat_1_Limits, JsonDepthDuplicatesAndRange) {
  std::string ok = std::string(trace::kMaxJsonDepth, '[') + std::string(trace::kMaxJsonDepth, ']');
  EXPECT_NO_THROW(trace::parse_json(ok, "f", 3));
  std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_NE(error_of([&] { trace::parse_json(deep, "f", 3); }).find("f:3: JSON nested deeper than"), std::string::npos);
  auto dup = error_of([&] { trace::parse_json(R"({"op":"observe","as":1,"as":2})", "f", 4); });
  EXPECT_NE(dup.find("f:4: field 'as': duplicate key"), std::string::npos) << dup;
  auto big = error_of([&] { trace::parse_json(R"({"as":1e400})", "f", 5); });
  EXPECT_NE(big.find("f:5: invalid JSON"), std::string::npos) << big;
  // Deep provenance in a header and a deep report file are refused the same way.
  std::string hdr = header(",\"provenance\":{\"x\":" + deep + "}");
  EXPECT_NE(conformance::replay_file(write_tmp("deep.jsonl", hdr + "\n"), {}).error.find(":1: JSON nested deeper"),
            std::string::npos);
  EXPECT_NE(error_of([&] { conformance::load_results(write_tmp("deep.json", deep)); }).find("nested deeper"),
            std::string::npos);
}

// §1: trace lines are parsed with simdjson (trace::LineDecoder); what it refuses, or a
// repeated key it would keep, is named by parse_json exactly as before, and what only
// parse_json accepts (an integer beyond 64 bits, a byte-order mark) decodes as its value.
TEST(TraceFormat_1_Limits, LineDecoderRefusesWhatParseJsonRefuses) {
  trace::LineDecoder d;
  std::string deep = std::string(1000, '[') + std::string(1000, ']');
  for (std::string line : {std::string("{not json"), std::string(R"({"op":"observe","as":1,"as":2})"),
                           std::string(R"({"op":"observe","as":{"a":1,"a":2}})"), std::string(R"({"as":1e400})"),
                           "{\"op\":\"observe\",\"as\":" + deep + "}", std::string("{\"op\":\"observe\",\"as\":1} x"),
                           std::string("{\"op\":\"obs\x01erve\",\"as\":1}"), std::string("{\"op\":\"\xff\",\"as\":1}")}) {
    std::string want = error_of([&] { trace::parse_json(line, "f", 9); });
    EXPECT_NE(want, "") << line;
    EXPECT_EQ(error_of([&] { d.event(line, "f", 9); }), want) << line;
  }
  auto field_of = [&](const std::string& line) -> std::string {
    try {
      d.event(line, "f", 9);
    } catch (const trace::TraceError& e) {
      return e.field;
    }
    return "(accepted)";
  };
  EXPECT_EQ(field_of(R"({"op":"observe","as":18446744073709551616})"), "as");
  EXPECT_EQ(field_of(R"({"op":"observe","as":-1})"), "as");
  EXPECT_EQ(field_of(R"({"op":"observe","as":1.0})"), "as");
  EXPECT_EQ(field_of("\xef\xbb\xbf{\"op\":\"observe\",\"as\":1}"), "(accepted)");
  EXPECT_EQ(field_of(R"({"op":"observe","zz":1,"as":1,"ab":2})"), "ab");  // the first unknown key in byte order
  EXPECT_EQ(field_of("[1]"), "");
  EXPECT_EQ(error_of([&] { d.event("[1]", "f", 9); }), "f:9: each line must be a JSON object");
}

// §2: header sizes are checked before anything is allocated.
TEST(TraceFormat_2_Header, SizesAreBoundedBeforeAllocation) {
  auto err = [&](const std::string& extra) {
    return conformance::replay_file(write_tmp("hdr.jsonl", header(extra) + "\n"), {}).error;
  };
  EXPECT_NE(err(R"(,"phys_mem":"0x8000000000000000")").find("field 'phys_mem'"), std::string::npos);
  EXPECT_NE(err(R"(,"cpus":5000)").find("field 'cpus'"), std::string::npos);
  EXPECT_NE(err(R"(,"page_size":"0x8000000000000000")").find("field 'page_size'"), std::string::npos);
  EXPECT_EQ(err(R"(,"phys_mem":"0x10000000000")"), "");  // 1 TiB: fine, nothing preallocated
  for (const std::string& k : vocab::kernel_names())  // every kernel boots or refuses by name
    for (const char* pm : {"0x10000000000", "0xfffffffff000"}) {
      auto r = conformance::replay_file(
          write_tmp("hdr2.jsonl", R"({"vmref_trace":1,"profile":")" + k + R"(","phys_mem":")" + pm + "\"}\n"), {});
      EXPECT_TRUE(r.error.empty() || r.error.find("field 'phys_mem'") != std::string::npos) << k << ": " << r.error;
    }
}

// §2, §3.3: values kept as JSON are checked when read, with line and field.
TEST(TraceFormat_3_3_Expect, ShapesAreCheckedWithLineAndField) {
  auto err = [&](const std::string& hdr, const std::string& body) {
    return conformance::replay_file(write_tmp("shape.jsonl", hdr + "\n" + body), {}).error;
  };
  std::string h = header();
  std::string as = "{\"op\":\"as_create\",\"as\":1}\n";
  EXPECT_NE(err(h, as + R"({"op":"observe","as":1,"expect":{"bogus":1}})").find(":3: field 'expect.bogus'"), std::string::npos);
  EXPECT_NE(err(h, as + R"({"op":"observe","as":1,"expect":{"vsl":[{"start":"0x1000","end":"0x2000","shared":"yes"}]}})")
                .find(":3: field 'expect.vsl[0].shared'"),
            std::string::npos);
  EXPECT_NE(err(h, as + R"({"op":"observe","as":1,"expect":{"vsl":[{"start":"0x1000","end":"0x2000","kind":"weird"}]}})")
                .find("field 'expect.vsl[0].kind'"),
            std::string::npos);
  EXPECT_NE(err(h, as + R"({"op":"observe","as":1,"expect":{"pages":[{"va":"0x1000","frame":3}]}})")
                .find("field 'expect.pages[0].frame'"),
            std::string::npos);
  EXPECT_NE(err(header(R"(,"provenance":{"expected":{"verdict":"fine"}})"), "").find(":1: field 'provenance.expected.verdict'"),
            std::string::npos);
  EXPECT_NE(err(header(R"(,"provenance":{"expected":{"ids":"INV-COW-1"}})"), "").find("field 'provenance.expected.ids'"),
            std::string::npos);
  EXPECT_NE(err(R"({"vmref_trace":1,"profile":"no-such-kernel"})", "").find(":1: field 'profile'"), std::string::npos);
  EXPECT_NE(err(h, R"({"op":"observe","as":9})").find(":2: field 'as'"), std::string::npos);  // no such space
}

// A declared bad-input verdict must say which error, so another malformation fails.
TEST(TraceFormat_5_Replay, DeclaredBadInputNamesItsError) {
  std::string h = header(R"(,"provenance":{"expected":{"verdict":"bad-input","error":"field 'va'"}})");
  auto right = conformance::replay_file(write_tmp("decl1.jsonl", h + "\n{\"op\":\"as_create\",\"as\":1}\n"
                                                                    "{\"op\":\"pte_clear\",\"as\":1,\"va\":\"0xzz\"}\n"), {});
  EXPECT_EQ(conformance::check_declared_verdict(right), "") << right.error;
  auto other = conformance::replay_file(write_tmp("decl2.jsonl", h + "\n{\"op\":\"as_create\",\"as\":1}\n{oops\n"), {});
  EXPECT_NE(conformance::check_declared_verdict(other), "");
  std::string bare = header(R"(,"provenance":{"expected":{"verdict":"bad-input"}})");
  auto unnamed = conformance::replay_file(write_tmp("decl3.jsonl", bare + "\n{oops\n"), {});
  EXPECT_NE(conformance::check_declared_verdict(unnamed), "");
}

// §5: a result file's counts are non-negative integers, never converted silently.
TEST(TraceFormat_5_Replay, ResultFileCountsAreStrict) {
  auto r = conformance::replay_file(test::source_dir() + "/traces/violations/core/INV-COW-1.jsonl", {});
  nlohmann::json good = conformance::result_to_json(r);
  EXPECT_NO_THROW(conformance::result_from_json(good, "r.json"));
  for (auto [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"events", -1}, {"checks", 1e300}, {"findings_total", "3"}, {"seconds", -2.0}}) {
    nlohmann::json bad = good;
    bad[key] = value;
    EXPECT_NE(error_of([&] { conformance::result_from_json(bad, "r.json"); }).find("field '" + key + "'"),
              std::string::npos)
        << key;
  }
  nlohmann::json bad = good;
  bad["findings"][0]["line"] = -5;
  EXPECT_NE(error_of([&] { conformance::result_from_json(bad, "r.json"); }).find("field 'findings[0].line'"),
            std::string::npos);
}

// §5: outputs are complete or absent; an output that is an input is refused.
TEST(TraceFormat_5_Output, AtomicOrAbsentAndNeverAnInput) {
  std::string p = tmp("out.txt");
  fs::remove(p);
  {
    trace::OutputFile f(p);
    f.write("half", 4);
  }  // no commit: nothing left behind
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(std::count_if(fs::directory_iterator(fs::path(p).parent_path()), {}, [](const auto& e) {
              return e.path().filename().string().rfind(".vmref-hostile-out.txt.tmp", 0) == 0;
            }),
            0);
  trace::write_file(p, "old");
  {
    trace::OutputFile f(p);
    f.write("new", 3);
  }  // an unfinished rewrite keeps the old file
  std::ifstream in(p);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "old");
  EXPECT_THROW(trace::refuse_same_file(p, {"/nonexistent", p}), trace::OutputError);
  EXPECT_NO_THROW(trace::refuse_same_file(tmp("other.txt"), {p}));
  EXPECT_THROW(trace::write_file("/dev/full", std::string(1 << 16, 'x')), trace::OutputError);
}

// §3.5: labels of frames that were freed are forgotten, so fresh labels per observe (as a
// kernel recording writes them) do not grow the replay's state without bound.
TEST(TraceFormat_3_5_Observe, FreedFrameLabelsAreReleased) {
  model::Model m(vocab::kernel_names().front(), 1, 64, 4096);
  test::apply_clean(m, R"({"op":"as_create","as":1})");
  test::apply_clean(m, R"({"op":"vseg_insert","as":1,"start":"0x10000000","end":"0x10001000","prot":"rw-","kind":"anon"})");
  conformance::ObserveState st;
  std::vector<conformance::Finding> found, undetermined;
  for (int i = 0; i < 20000; ++i) {
    std::string f = "F" + std::to_string(i);
    m.apply(test::ev(R"({"op":"frame_alloc","frame":")" + f + R"(","cont":true})"));
    m.apply(test::ev(R"({"op":"pte_set","as":1,"va":"0x10000000","frame":")" + f + R"(","prot":"rw-"})"));
    vocab::Event obs = test::ev(R"({"op":"observe","as":1,"expect":{"pages":[{"va":"0x10000000","frame":"L)" +
                                std::to_string(i) + R"(","kept":false}]}})");
    conformance::compare_expect(m, obs, m.apply(obs), "t", static_cast<std::uint64_t>(i), found, undetermined, st);
    m.apply(test::ev(R"({"op":"pte_clear","as":1,"va":"0x10000000","cont":true})"));
    m.apply(test::ev(R"({"op":"tlb_flush","scope":"asid","as":1,"cont":true})"));
    m.apply(test::ev(R"({"op":"frame_free","frame":")" + f + R"("})"));
  }
  EXPECT_TRUE(found.empty()) << found.front().message;  // kept:false held at every observe
  EXPECT_LT(st.labels.size() + st.last.size(), 10000u);
  EXPECT_LT(m.core().labels.size(), 10000u);
}

// §3.5: a label whose frame was freed may name the next allocation at once (a kernel
// that labels frames by PFN reuses the PFN), before any sweep of forgotten labels; one
// still live must keep naming its frame.
TEST(TraceFormat_3_5_Observe, LabelOfAFreedFrameNamesTheNextAllocation) {
  model::Model m(vocab::kernel_names().front(), 1, 64, 4096);
  test::apply_clean(m, R"({"op":"as_create","as":1})");
  test::apply_clean(m, R"({"op":"vseg_insert","as":1,"start":"0x10000000","end":"0x10002000","prot":"rw-","kind":"anon"})");
  conformance::ObserveState st;
  std::vector<conformance::Finding> found, undetermined;
  auto observe = [&](std::uint64_t index, const char* label) {
    vocab::Event obs = test::ev(std::string(R"({"op":"observe","as":1,"expect":{"pages":[{"va":"0x10000000","frame":")") +
                                label + R"("}]}})");
    conformance::compare_expect(m, obs, m.apply(obs), "t", index, found, undetermined, st);
  };
  for (const char* f : {"A", "B"}) {
    test::apply_clean(m, std::string(R"({"op":"frame_alloc","frame":")") + f + R"(","cont":true})");
    test::apply_clean(m, std::string(R"({"op":"pte_set","as":1,"va":"0x10000000","frame":")") + f + R"(","prot":"rw-"})");
    observe(f[0] == 'A' ? 1 : 3, "p5");  // the kernel's label: the PFN, reused
    m.apply(test::ev(R"({"op":"pte_clear","as":1,"va":"0x10000000","cont":true})"));  // one group up to frame_put
    m.apply(test::ev(R"({"op":"tlb_flush","scope":"asid","as":1,"cont":true})"));
    test::apply_clean(m, std::string(R"({"op":"frame_put","frame":")") + f + R"("})");
  }
  EXPECT_TRUE(found.empty()) << found.front().message;
  // A live frame's label may not name another frame.
  test::apply_clean(m, R"({"op":"frame_alloc","frame":"C","cont":true})");
  test::apply_clean(m, R"({"op":"pte_set","as":1,"va":"0x10000000","frame":"C","prot":"rw-"})");
  test::apply_clean(m, R"({"op":"frame_alloc","frame":"D","cont":true})");
  test::apply_clean(m, R"({"op":"pte_set","as":1,"va":"0x10001000","frame":"D","prot":"rw-"})");
  observe(5, "q");
  vocab::Event obs = test::ev(R"({"op":"observe","as":1,"expect":{"pages":[{"va":"0x10001000","frame":"q"}]}})");
  conformance::compare_expect(m, obs, m.apply(obs), "t", 6, found, undetermined, st);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("the frame that label named before"), std::string::npos) << found[0].message;
}

// spec/vmm.md §2.6, spec/trace-format.md §3.6: a step naming a CPU that does not exist, a
// holder that holds nothing and an unknown or reused pin handle are bad input naming the
// field; a holder's matching unref is not.
TEST(TraceFormat_3_6_Cpus, MechanismStepsCheckCpuHolderAndHandle) {
  const std::string h = header(R"(,"cpus":2)") + "\n{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"frame_alloc\",\"frame\":\"F\"}\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return conformance::replay_file(write_tmp(name, h + lines), {}).error;
  };
  EXPECT_NE(error_for("cpu.jsonl", R"({"op":"frame_get","frame":"F","cpu":2})" "\n").find("field 'cpu'"), std::string::npos);
  EXPECT_NE(error_for("holder.jsonl", R"({"op":"frame_unref","frame":"F","holder":"dma"})" "\n").find("field 'holder'"),
            std::string::npos);
  EXPECT_NE(error_for("unpin.jsonl", R"({"op":"frame_unpin","handle":"h"})" "\n").find("field 'handle'"), std::string::npos);
  std::string pin = R"({"op":"frame_pin","as":1,"va":"0x1000","frame":"F","handle":"h"})" "\n";
  EXPECT_NE(error_for("repin.jsonl", pin + pin).find("field 'handle'"), std::string::npos);
  EXPECT_EQ(error_for("ok.jsonl", R"({"op":"frame_ref","frame":"F","holder":"dma","cpu":1})"
                                  "\n" R"({"op":"frame_unref","frame":"F","holder":"dma","cpu":0})" "\n"),
            "");
}

// spec/vmm.md §1.8: table events and leaf sizes that cannot apply name their field.
TEST(TraceFormat_3_1_Tables, ImpossibleTableEventsNameTheField) {
  const std::string h = header() + "\n{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"frame_alloc\",\"frame\":\"T\"}\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return conformance::replay_file(write_tmp(name, h + lines + "\n"), {}).error;
  };
  const std::string root = R"({"op":"pt_root","as":1,"level":4,"table":"T"})" "\n";
  EXPECT_NE(error_for("lvl.jsonl", R"({"op":"pt_root","as":1,"level":6,"table":"T"})").find("field 'level'"),
            std::string::npos);
  EXPECT_NE(error_for("root2.jsonl", root + root).find("field 'table'"), std::string::npos);
  const std::string second = "{\"op\":\"frame_alloc\",\"frame\":\"U\"}\n";
  EXPECT_NE(error_for("rootlvl.jsonl", root + second + R"({"op":"pt_root","as":1,"level":5,"table":"U"})")
                .find("field 'level'"),
            std::string::npos);
  EXPECT_EQ(error_for("pti.jsonl", root + second + R"({"op":"pt_root","as":1,"level":4,"table":"U"})"), "");
  EXPECT_NE(error_for("parent.jsonl", root + R"({"op":"pt_link","as":1,"va":"0x1000","level":1,"table":"T"})")
                .find("field 'va'"),
            std::string::npos);
  EXPECT_NE(error_for("unlink.jsonl", root + R"({"op":"pt_unlink","as":1,"va":"0x1000","level":3})").find("field 'va'"),
            std::string::npos);
  EXPECT_NE(error_for("size.jsonl", R"({"op":"pte_set","as":1,"va":"0x0","frame":"T","prot":"r--","size":"0x3000"})")
                .find("field 'size'"),
            std::string::npos);
  EXPECT_NE(error_for("align.jsonl", R"({"op":"pte_set","as":1,"va":"0x1000","frame":"T","prot":"r--","size":"0x200000"})")
                .find("field 'va'"),
            std::string::npos);
}

// spec/vmm.md §2.3, §3.2: a tag beyond 16 bits, a root the space does not have, and a
// tag on a full flush name their field.
TEST(TraceFormat_3_1_Tags, ImpossibleTagsAndRootsNameTheField) {
  const std::string h = header() + "\n{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"frame_alloc\",\"frame\":\"T\"}\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return conformance::replay_file(write_tmp(name, h + lines + "\n"), {}).error;
  };
  EXPECT_NE(error_for("tag.jsonl", R"({"op":"switch","cpu":0,"as":1,"tag":65536})").find("field 'tag'"),
            std::string::npos);
  EXPECT_NE(error_for("root.jsonl", R"({"op":"switch","cpu":0,"as":1,"root":"T"})").find("field 'root'"),
            std::string::npos);
  EXPECT_NE(error_for("noroot.jsonl", R"({"op":"switch","cpu":0,"as":1,"root":"nothing"})").find("field 'root'"),
            std::string::npos);
  EXPECT_NE(error_for("all.jsonl", R"({"op":"tlb_flush","scope":"all","tag":1})").find("field 'tag'"),
            std::string::npos);
  EXPECT_EQ(error_for("ok.jsonl", R"({"op":"pt_root","as":1,"level":4,"table":"T"})" "\n"
                                  R"({"op":"switch","cpu":0,"as":1,"root":"T","tag":65535,"flush":true})" "\n"
                                  R"({"op":"tlb_flush","scope":"asid","as":1,"tag":65535})"),
            "");
}

// spec/vmm.md §1.4, §1.5, §2.6: a compound frame's size, a size on a frame op that has
// none, and the zero pages as labels of frame ops name their field.
TEST(TraceFormat_2_6_CompoundFrames, ImpossibleSizesAndZeroPageLabelsNameTheField) {
  const std::string h = header() + "\n{\"op\":\"as_create\",\"as\":1}\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return conformance::replay_file(write_tmp(name, h + lines + "\n"), {}).error;
  };
  for (const char* size : {"0x3000", "0x800", "0x80000000"})  // not 2^k pages, below a page, above 2^18 pages
    EXPECT_NE(error_for("size.jsonl", std::string(R"({"op":"frame_alloc","frame":"F","size":")") + size + "\"}")
                  .find("field 'size'"),
              std::string::npos)
        << size;
  EXPECT_NE(error_for("getsize.jsonl", R"({"op":"frame_alloc","frame":"F"})" "\n"
                                       R"({"op":"frame_get","frame":"F","size":"0x200000"})")
                .find("'size'"),
            std::string::npos);
  EXPECT_NE(error_for("hz.jsonl", R"({"op":"frame_get","frame":"huge_zero"})").find("field 'frame'"), std::string::npos);
  EXPECT_EQ(error_for("ok.jsonl", R"({"op":"frame_alloc","frame":"F","size":"0x200000"})" "\n"
                                  R"({"op":"frame_put","frame":"F"})"),
            "");
}
