// The core's invariant checkers (spec/vmm.md §4.1-§4.7), one per ID.
#pragma once

#include <vector>

#include "vmref/model/invariants.hpp"

namespace vmref::model {

void check_vsl_1(const CheckScope&, std::vector<Violation>&);
void check_vsl_2(const CheckScope&, std::vector<Violation>&);
void check_gpt_1(const CheckScope&, std::vector<Violation>&);
void check_gpt_2(const CheckScope&, std::vector<Violation>&);
void check_gpt_3(const CheckScope&, std::vector<Violation>&);
void check_gpt_4(const CheckScope&, std::vector<Violation>&);
void check_frame_1(const CheckScope&, std::vector<Violation>&);
void check_frame_2(const CheckScope&, std::vector<Violation>&);
void check_cow_1(const CheckScope&, std::vector<Violation>&);
void check_cow_2(const CheckScope&, std::vector<Violation>&);
void check_cow_3(const CheckScope&, std::vector<Violation>&);
void check_tlb_1(const CheckScope&, std::vector<Violation>&);
void check_tlb_2(const CheckScope&, std::vector<Violation>&);
void check_tlb_3(const CheckScope&, std::vector<Violation>&);
void check_tlb_4(const CheckScope&, std::vector<Violation>&);
void check_tlb_5(const CheckScope&, std::vector<Violation>&);
void check_tlb_6(const CheckScope&, std::vector<Violation>&);
void check_pt_1(const CheckScope&, std::vector<Violation>&);
void check_pt_2(const CheckScope&, std::vector<Violation>&);
void check_pt_3(const CheckScope&, std::vector<Violation>&);
void check_pt_4(const CheckScope&, std::vector<Violation>&);
void check_alloc_1(const CheckScope&, std::vector<Violation>&);
void check_alloc_2(const CheckScope&, std::vector<Violation>&);
void check_alloc_3(const CheckScope&, std::vector<Violation>&);
void check_alloc_4(const CheckScope&, std::vector<Violation>&);

}  // namespace vmref::model
