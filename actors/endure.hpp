// endure's public API in one header: include this in workflow code and in
// the program that embeds the runtime.
#pragma once

#include "endure/actors/context.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/retry_policy.hpp"
#include "endure/actors/run_outcome.hpp"
#include "endure/actors/runtime.hpp"
#include "endure/actors/system_settings.hpp"
#include "endure/actors/task.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/actors/workflow_registry.hpp"
#include "endure/persistence/failure.hpp"
