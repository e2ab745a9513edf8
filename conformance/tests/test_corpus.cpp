// `vmref fuzz --corpus`'s progress file (conformance/src/diff/campaign_corpus.cpp):
// finished episodes kept as merged ranges, saved and read back per campaign, and a
// hostile or damaged file refused with its name and field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "vmref/diff/corpus.hpp"

using vmref::diff::CorpusProgress;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const char* name) {
  fs::path d = fs::temp_directory_path() / ("vmref-corpus-" + std::string(name));
  fs::remove_all(d);
  return d;
}
std::string text(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

TEST(CorpusProgress, EpisodesFinishedOutOfOrderMergeIntoRanges) {
  fs::path d = scratch("merge");
  CorpusProgress p(d.string(), "A");
  for (std::uint64_t e : std::initializer_list<std::uint64_t>{4, 0, 2, 1, 3, 9, UINT64_MAX, UINT64_MAX - 1}) p.add(e);
  EXPECT_EQ(p.count(), 8u);
  EXPECT_TRUE(p.done(3));
  EXPECT_FALSE(p.done(5));
  EXPECT_FALSE(p.done(8));
  EXPECT_TRUE(p.done(UINT64_MAX));
  p.save();
  const std::string saved = text(d / "progress.json");
  EXPECT_NE(saved.find("\"A\""), std::string::npos);
  EXPECT_FALSE(fs::exists(d / "progress.json.tmp"));
  CorpusProgress again(d.string(), "A"), other(d.string(), "B");
  EXPECT_EQ(again.count(), 8u);
  EXPECT_EQ(other.count(), 0u);
  other.add(7);
  other.save();  // keeps A's entry
  EXPECT_EQ(CorpusProgress(d.string(), "A").count(), 8u);
  EXPECT_TRUE(CorpusProgress(d.string(), "B").done(7));
  fs::remove_all(d);
}

TEST(CorpusProgress, AHugeRangeCostsOneEntry) {
  fs::path d = scratch("huge");
  fs::create_directories(d);
  std::ofstream(d / "progress.json") << R"({"vmref_corpus": 1, "campaigns": {"A": [[0, 18446744073709551614]]}})";
  CorpusProgress p(d.string(), "A");
  EXPECT_TRUE(p.done(123456789012345ull));
  EXPECT_FALSE(p.done(UINT64_MAX));
  fs::remove_all(d);
}

TEST(CorpusProgress, DamagedFilesAreRefusedNamingTheField) {
  fs::path d = scratch("bad");
  fs::create_directories(d);
  const std::pair<const char*, const char*> cases[] = {
      {R"({"vmref_corpus": 2, "campaigns": {}})", "field 'vmref_corpus'"},
      {R"({"vmref_corpus": 1})", "field 'campaigns'"},
      {R"({"vmref_corpus": 1, "campaigns": {"A": [[3, 1]]}})", "field 'campaigns.A'"},
      {R"({"vmref_corpus": 1, "campaigns": {"A": [[-1, 1]]}})", "field 'campaigns.A'"},
      {R"({"vmref_corpus": 1, "campaigns": {"A": [[1, 2)", "progress.json"},
  };
  for (const auto& [body, field] : cases) {
    std::ofstream(d / "progress.json", std::ios::trunc) << body;
    try {
      CorpusProgress p(d.string(), "A");
      ADD_FAILURE() << "accepted " << body;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("progress.json"), std::string::npos) << e.what();
    }
  }
  fs::remove_all(d);
}
