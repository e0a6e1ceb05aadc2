// endure's public API in one header: include this in workflow code and in
// the program that embeds the runtime.
#pragma once

#include "actors/context.hpp"
#include "actors/offline_control.hpp"
#include "actors/retry_policy.hpp"
#include "actors/run_outcome.hpp"
#include "actors/runtime.hpp"
#include "actors/system_settings.hpp"
#include "actors/task.hpp"
#include "actors/workflow_errors.hpp"
#include "actors/workflow_registry.hpp"
#include "persistence/failure.hpp"
