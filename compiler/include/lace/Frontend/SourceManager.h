//===- SourceManager.h - Source files, locations and file providers -------===//
//
// The SourceManager owns the text of every loaded `.lace` file and maps byte
// offsets to 1-based line/column pairs. Files are read through a FileProvider
// so that tools read the disk while the fuzzer and tests use memory only.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_SOURCEMANAGER_H
#define LACE_FRONTEND_SOURCEMANAGER_H

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lace::frontend {

/// Index of a file in its SourceManager; kNoFile for "no location".
using FileId = std::int32_t;
inline constexpr FileId kNoFile = -1;

/// A half-open byte range [begin, end) in one file.
struct SourceRange {
  FileId file = kNoFile;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  bool valid() const { return file != kNoFile; }
  /// The smallest range covering both (same file assumed; invalid ranges are
  /// ignored).
  static SourceRange cover(SourceRange a, SourceRange b);
};

struct LineColumn {
  std::uint32_t line = 0;   ///< 1-based
  std::uint32_t column = 0; ///< 1-based, in bytes
};

/// Where file contents come from. Paths are normalized (lexically) by the
/// SourceManager before they reach the provider.
class FileProvider {
public:
  virtual ~FileProvider() = default;
  /// The file's contents, or nullopt when it cannot be read.
  virtual std::optional<std::string> read(const std::string &path) = 0;
};

/// Reads regular files from the file system.
class DiskFileProvider final : public FileProvider {
public:
  std::optional<std::string> read(const std::string &path) override;
};

/// Serves files from memory (tests, fuzzer, embedding applications).
class MemoryFileProvider final : public FileProvider {
public:
  void add(const std::string &path, std::string contents);
  std::optional<std::string> read(const std::string &path) override;

private:
  std::map<std::string, std::string> files_;
};

class SourceManager {
public:
  /// Files larger than this are refused (offsets are 32-bit).
  static constexpr std::size_t kMaxFileSize = 64u << 20;

  explicit SourceManager(FileProvider &provider) : provider_(provider) {}

  /// Loads `path` (normalized) once; a second call returns the same id.
  /// Returns nullopt when the provider cannot read it.
  std::optional<FileId> load(const std::string &path);
  /// Adds an anonymous buffer (never looked up by path).
  FileId addBuffer(std::string name, std::string contents);
  /// The id of an already loaded file, if any.
  std::optional<FileId> find(const std::string &path) const;

  std::string_view path(FileId id) const { return files_[id]->path; }
  std::string_view contents(FileId id) const { return files_[id]->contents; }
  std::size_t numFiles() const { return files_.size(); }
  LineColumn lineColumn(FileId id, std::uint32_t offset) const;
  /// Text of a 1-based line without its line terminator.
  std::string_view lineText(FileId id, std::uint32_t line) const;
  /// The source text covered by a range (empty for invalid ranges).
  std::string_view text(SourceRange range) const;

  /// Lexical normalization ("a/./b/../c" -> "a/c"), no disk access.
  static std::string normalize(const std::string &path);
  /// `import` paths are relative to the importing file's directory.
  static std::string resolveImport(std::string_view importer,
                                   std::string_view imported);

private:
  struct File {
    std::string path;
    std::string contents;
    std::vector<std::uint32_t> lineStarts;
  };
  FileId add(std::string path, std::string contents);

  FileProvider &provider_;
  std::vector<std::unique_ptr<File>> files_;
  std::map<std::string, FileId> byPath_;
};

} // namespace lace::frontend

#endif // LACE_FRONTEND_SOURCEMANAGER_H
