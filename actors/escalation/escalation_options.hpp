// How a runtime's escalation actor is set up (runtime_options::escalation):
// the matrix it runs and where its store keeps the graphs. Value type.
#pragma once

#include "endure/actors/escalation/matrix.hpp"
#include "endure/actors/escalation/store.hpp"

namespace endure::escalation {

struct escalation_options {
  matrix_options matrix;
  store_options store;
};

} // namespace endure::escalation
