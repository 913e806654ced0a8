// Words for TOML value types in error messages, shared by every TOML parser of the project (the
// broker config here, scenario files in sim/scenario): "expected a string, got an integer".
#pragma once

#include <toml++/toml.h>

#include <string_view>

namespace gregor::broker {

std::string_view toml_type_name(toml::node_type type);  // "a string", "an integer", ...

}  // namespace gregor::broker
