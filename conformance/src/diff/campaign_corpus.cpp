#include <algorithm>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/corpus.hpp"
#include "vmref/trace/json_text.hpp"
#include "command_words.hpp"

namespace vmref::diff {

namespace fs = std::filesystem;
using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

namespace {

/// An array of [first, last] pairs; throws naming `where` for anything else.
Ranges read_ranges(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw std::runtime_error(where + ": expected an array of [first, last] ranges");
  Ranges r;
  for (const auto& p : j) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() || !p[1].is_number_unsigned() ||
        p[0].get<std::uint64_t>() > p[1].get<std::uint64_t>())
      throw std::runtime_error(where + ": expected [first, last] with first <= last");
    r.push_back({p[0].get<std::uint64_t>(), p[1].get<std::uint64_t>()});
  }
  return r;
}

}  // namespace

std::string campaign_identity(const CampaignOptions& o) {
  return without_options(campaign_command(o), {"--jobs", "--shard", "--ops", "--time", "--corpus"});
}

CorpusProgress::CorpusProgress(std::string dir, std::string identity)
    : path_((fs::path(dir) / "progress.json").string()), identity_(std::move(identity)) {
  fs::create_directories(dir);
  if (!fs::exists(path_)) return;
  std::ifstream f(path_, std::ios::binary);
  if (!f) throw std::runtime_error(path_ + ": cannot open");
  const nlohmann::json j = trace::parse_json(f, path_);
  if (!j.is_object() || j.value("vmref_corpus", 0) != 1)
    throw std::runtime_error(path_ + ": field 'vmref_corpus': expected 1 (a vmref fuzz --corpus progress file)");
  if (!j.contains("campaigns") || !j["campaigns"].is_object())
    throw std::runtime_error(path_ + ": field 'campaigns': expected an object {campaign: ranges}");
  for (const auto& [id, rs] : j["campaigns"].items()) {
    Ranges r = read_ranges(rs, path_ + ": field 'campaigns." + id + "'");
    if (id != identity_) others_[id] = std::move(r);
    else
      for (auto [a, b] : r) insert(a, b);
  }
}

/// Adds [a, b] to the disjoint ranges in `done_` (first -> last), merging neighbours, so
/// memory follows the number of gaps, not of episodes.
void CorpusProgress::insert(std::uint64_t a, std::uint64_t b) {
  auto it = done_.upper_bound(a);
  if (it != done_.begin()) {
    auto p = std::prev(it);
    // Overlap, or adjacency (p->second < a here, so + 1 cannot wrap).
    if (p->second >= a || p->second + 1 == a) it = p;
  }
  // it->first - 1 is reached only when it->first > b, so it cannot wrap either.
  while (it != done_.end() && (it->first <= b || it->first - 1 == b)) {
    a = std::min(a, it->first), b = std::max(b, it->second);
    it = done_.erase(it);
  }
  done_[a] = b;
}

bool CorpusProgress::done(std::uint64_t episode) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = done_.upper_bound(episode);
  return it != done_.begin() && std::prev(it)->second >= episode;
}

std::uint64_t CorpusProgress::count() const {
  std::lock_guard<std::mutex> g(mu_);
  std::uint64_t n = 0;
  for (auto [a, b] : done_) n += b - a + 1;
  return n;
}

void CorpusProgress::add(std::uint64_t episode) {
  std::lock_guard<std::mutex> g(mu_);
  insert(episode, episode);
}

void CorpusProgress::save() const {
  nlohmann::ordered_json j{{"vmref_corpus", 1}, {"campaigns", nlohmann::ordered_json::object()}};
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [id, r] : others_) j["campaigns"][id] = r;
    Ranges mine(done_.begin(), done_.end());
    j["campaigns"][identity_] = mine;
  }
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << j.dump(1) << "\n";
    if (!f.flush()) throw std::runtime_error(tmp + ": cannot write");
  }
  fs::rename(tmp, path_);
}

CorpusReplay replay_corpus(const CampaignOptions& o) {
  CorpusReplay out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(o.corpus_dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"))) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    ++out.traces;
    std::string id, error;
    try {
      if (f.find(".tables.") != std::string::npos) {
        auto found = replay_counterexample(f, o.format.mutant);
        if (!found.empty()) id = found.front().first;
      } else {
        conformance::ReplayOptions r;
        r.model_only = o.model_only;
        if (!o.model_only) r.impl = o.impl, r.mutant = o.format.mutant ? o.format.mutant->name : "", r.format_params = o.format.params;
        r.keep_findings = 1;
        conformance::ReplayResult res = conformance::replay_file(f, r);
        error = res.error;
        if (error.empty() && !res.findings.empty()) id = res.findings.front().id;
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      ++out.unusable;
      out.errors.push_back(f + ": " + error);
    } else if (!id.empty()) {
      ++out.still_failing;
      ++out.by_id[id];
      out.failing.push_back(f + ": " + id);
    }
  }
  return out;
}

}  // namespace vmref::diff
