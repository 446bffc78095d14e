//===- CacheCommand.cpp - `lace cache stats|list|clear` -------------------===//
//
// Inspects and empties the kernel cache ($LACE_CACHE_DIR, or --dir DIR):
//   lace cache stats   entries, bytes on disk, the cap
//   lace cache list    one line per entry, each verified; damaged ones say why
//   lace cache clear   removes every entry
// Two hidden subcommands exist for tests (tests/lit/tools/cache.test) and are
// not part of the interface:
//   lace cache put KEYTEXT FILE [--kind KIND]   stores FILE under the key
//                                               CacheKeyBuilder().add("text",
//                                               KEYTEXT)
//   lace cache get KEYTEXT                      writes that entry to stdout
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Session.h"

#include "lace/Runtime/KernelCache.h"

#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>

namespace lace::tool {

namespace {

constexpr std::string_view kUsage =
    "expected 'lace cache stats|list|clear [--dir DIR]'";

struct CacheOptions {
  std::string action;
  std::vector<std::string> operands;
  std::string directory;
  std::string kind = "bytes";
};

/// The key `put` and `get` use: a single named part, so tests can predict it.
CacheKey keyOfText(const std::string &text) {
  return CacheKeyBuilder().add("text", text).build();
}

std::string formatUtc(std::int64_t unixMs) {
  std::time_t seconds = static_cast<std::time_t>(unixMs / 1000);
  std::tm utc;
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

int printStats(KernelCache &cache) {
  CacheStats stats = cache.stats();
  std::cout << "directory: " << cache.directory().string() << "\n"
            << "entries: " << stats.diskEntries << "\n"
            << "bytes on disk: " << stats.diskBytes << "\n"
            << "max bytes: " << cache.config().maxDiskBytes << "\n";
  return 0;
}

int printList(KernelCache &cache) {
  Expected<std::vector<ListedEntry>> listed = cache.list();
  if (!listed)
    return usageError(listed.error().str());
  std::uint64_t total = 0;
  for (const ListedEntry &entry : *listed) {
    total += entry.fileBytes;
    std::cout << entry.keyHex << "  ";
    if (!entry.problem.empty()) {
      std::cout << "damaged: " << entry.problem << "\n";
      continue;
    }
    const EntryMetadata &metadata = entry.metadata;
    std::cout << (metadata.kind.empty() ? "-" : metadata.kind) << "  "
              << (metadata.arch.empty() ? "-" : metadata.arch) << "  "
              << entry.payloadBytes << " B  used "
              << formatUtc(entry.lastUseUnixMs) << "  compiled in "
              << metadata.compileMs << " ms  "
              << (metadata.label.empty() ? "-" : metadata.label) << "\n";
  }
  std::cout << listed->size()
            << (listed->size() == 1 ? " entry, " : " entries, ") << total
            << " bytes\n";
  return 0;
}

int clearCache(KernelCache &cache) {
  Expected<std::uint64_t> removed = cache.clear();
  if (!removed)
    return usageError(removed.error().str());
  std::cout << "removed " << *removed << (*removed == 1 ? " entry" : " entries")
            << " from " << cache.directory().string() << "\n";
  return 0;
}

int putEntry(KernelCache &cache, const CacheOptions &options) {
  const std::string &file = options.operands[1];
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return usageError("cannot read '" + file + "'");
  Payload payload;
  payload.bytes.assign(std::istreambuf_iterator<char>(in), {});
  payload.kind = options.kind;
  payload.label = options.operands[0];
  CacheKey key = keyOfText(options.operands[0]);
  cache.insert(key, std::move(payload));
  std::cout << key.hex() << "\n";
  return 0;
}

int getEntry(KernelCache &cache, const CacheOptions &options) {
  std::shared_ptr<const CacheEntry> entry =
      cache.lookup(keyOfText(options.operands[0]));
  if (!entry)
    return usageError("no valid cache entry for '" + options.operands[0] + "'");
  std::cout.write(entry->bytes.data(),
                  static_cast<std::streamsize>(entry->bytes.size()));
  return 0;
}

} // namespace

int runCache(std::span<const std::string> args) {
  CacheOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--dir" || args[i] == "--kind") && i + 1 == args.size())
      return usageError("option '" + args[i] + "' expects a value");
    if (takeValue(args, i, "--dir", options.directory) ||
        takeValue(args, i, "--kind", options.kind))
      continue;
    if (args[i].starts_with("--"))
      return usageError("unknown option '" + args[i] + "' for 'cache', " +
                        std::string(kUsage));
    if (options.action.empty())
      options.action = args[i];
    else
      options.operands.push_back(args[i]);
  }
  std::size_t operands = options.action == "put"   ? 2
                         : options.action == "get" ? 1
                                                   : 0;
  bool known = options.action == "stats" || options.action == "list" ||
               options.action == "clear" || operands > 0;
  if (!known)
    return usageError((options.action.empty()
                           ? std::string("'cache' needs an action")
                           : "unknown cache action '" + options.action + "'") +
                      ", " + std::string(kUsage));
  if (options.operands.size() != operands)
    return usageError("wrong number of arguments for 'cache " + options.action +
                      "'");

  Expected<CacheConfig> config = CacheConfig::fromEnvironment();
  if (!config && options.directory.empty())
    return usageError(config.error().str());
  if (!config)
    config = CacheConfig();
  if (!options.directory.empty())
    config->directory = options.directory;
  // The subcommands manage the directory even when LACE_CACHE_DISABLE stops
  // the runtime from using it.
  config->enabled = true;
  KernelCache cache(std::move(*config));

  if (options.action == "stats")
    return printStats(cache);
  if (options.action == "list")
    return printList(cache);
  if (options.action == "clear")
    return clearCache(cache);
  if (options.action == "put")
    return putEntry(cache, options);
  return getEntry(cache, options);
}

} // namespace lace::tool
