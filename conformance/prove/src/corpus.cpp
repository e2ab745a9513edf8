#include "vmref/prove/corpus.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "vmref/trace/json_text.hpp"
#include "vmref/trace/output_file.hpp"

namespace vmref::prove {

namespace fs = std::filesystem;

namespace {

/// One recorded result; throws naming `where` and the field for anything malformed.
Result read_result(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": expected an object");
  auto text = [&](const char* f) {
    if (!j.contains(f) || !j[f].is_string()) throw std::runtime_error(where + "." + f + ": expected a string");
    return j[f].get<std::string>();
  };
  Result r;
  const std::string status = text("status");
  if (status == to_string(Status::proved)) r.status = Status::proved;
  else if (status == to_string(Status::counterexample)) r.status = Status::counterexample;
  else throw std::runtime_error(where + ".status: expected proved or counterexample, not '" + status + "'");
  r.detail = text("detail"), r.trace = text("trace"), r.replay = text("replay");
  if (!j.contains("confirmed") || !j["confirmed"].is_boolean()) throw std::runtime_error(where + ".confirmed: expected true or false");
  if (!j.contains("seconds") || !j["seconds"].is_number() || j["seconds"].get<double>() < 0)
    throw std::runtime_error(where + ".seconds: expected a non-negative number");
  r.confirmed = j["confirmed"].get<bool>();
  r.seconds = j["seconds"].get<double>();
  return r;
}

nlohmann::json write_result(const Result& r) {
  return {{"status", to_string(r.status)}, {"detail", r.detail},       {"trace", r.trace},
          {"replay", r.replay},            {"confirmed", r.confirmed}, {"seconds", r.seconds}};
}

}  // namespace

ProofCorpus::ProofCorpus(std::string dir, std::string identity)
    : path_((fs::path(dir) / "proofs.json").string()), identity_(std::move(identity)) {
  fs::create_directories(dir);
  if (!fs::exists(path_)) return;
  std::ifstream f(path_, std::ios::binary);
  if (!f) throw std::runtime_error(path_ + ": cannot open");
  const nlohmann::json j = trace::parse_json(f, path_);
  if (!j.is_object() || j.value("vmref_proofs", 0) != 1)
    throw std::runtime_error(path_ + ": field 'vmref_proofs': expected 1 (a vmref prove --corpus file)");
  if (!j.contains("campaigns") || !j["campaigns"].is_object())
    throw std::runtime_error(path_ + ": field 'campaigns': expected an object {campaign: {obligation: result}}");
  for (const auto& [id, results] : j["campaigns"].items()) {
    const std::string where = path_ + ": field 'campaigns." + id;
    if (!results.is_object()) throw std::runtime_error(where + "': expected an object {obligation: result}");
    if (id != identity_) {
      others_[id] = results;
      continue;
    }
    for (const auto& [k, r] : results.items()) mine_[k] = read_result(r, where + "." + k + "'");
  }
}

std::string ProofCorpus::key(const std::string& profile, const Obligation& ob) {
  return profile + " " + to_string(ob.kind) + " " + ob.id + (ob.op.empty() ? "" : " " + ob.op);
}

std::optional<Result> ProofCorpus::find(const std::string& key) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = mine_.find(key);
  if (it == mine_.end()) return std::nullopt;
  // A counterexample whose trace was deleted is solved again, which writes the trace anew.
  if (!it->second.trace.empty() && !fs::exists(it->second.trace)) return std::nullopt;
  return it->second;
}

void ProofCorpus::add(const std::string& key, const Result& r) {
  if (r.status == Status::unknown) return;
  std::lock_guard<std::mutex> g(mu_);
  mine_[key] = r;
  save();
}

std::size_t ProofCorpus::size() const {
  std::lock_guard<std::mutex> g(mu_);
  return mine_.size();
}

void ProofCorpus::save() const {
  nlohmann::json j{{"vmref_proofs", 1}, {"campaigns", others_}};
  nlohmann::json& mine = j["campaigns"][identity_] = nlohmann::json::object();
  for (const auto& [k, r] : mine_) mine[k] = write_result(r);
  trace::write_file(path_, j.dump(1) + "\n");  // complete or absent: a killed run keeps the last file
}

}  // namespace vmref::prove
