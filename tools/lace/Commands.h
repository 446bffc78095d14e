//===- Commands.h - Subcommands of the lace tool --------------------------===//
//
// A subcommand is a function from its arguments (after the subcommand name)
// to an exit status; main.cpp holds the table name -> function. To add one,
// write <Name>Command.cpp with `int run<Name>(std::span<const std::string>)`,
// declare it here and add a row to the table.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TOOLS_LACE_COMMANDS_H
#define LACE_TOOLS_LACE_COMMANDS_H

#include <span>
#include <string>
#include <string_view>

namespace lace::tool {

using CommandFn = int (*)(std::span<const std::string> args);

struct Command {
  std::string_view name;
  std::string_view usage;   ///< arguments, for the help text
  std::string_view summary; ///< one line
  std::string_view help;    ///< every option with its default
  std::string_view example; ///< one command line
  CommandFn run;
};

int runCheck(std::span<const std::string> args);
int runShow(std::span<const std::string> args);
int runCompile(std::span<const std::string> args);
int runCache(std::span<const std::string> args);
int runDevices(std::span<const std::string> args);
int runRun(std::span<const std::string> args);

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_COMMANDS_H
