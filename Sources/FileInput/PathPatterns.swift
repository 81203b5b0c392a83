#if canImport(Glibc)
import Glibc
#endif

/// The `paths` and `exclude` globs of a file input: which paths match, which directories
/// must be watched so that matching files (and directories named by the patterns) that
/// appear later are seen, and a full scan for the files that match now.
///
/// Patterns use glob(7) syntax per path component (`*`, `?`, `[...]`; a leading `.` is
/// only matched explicitly; `**` is not special). An `exclude` pattern without a `/`
/// is matched against the file name (`*.gz`), one with a `/` against the whole path.
struct PathPatterns: Sendable {
    /// One `paths` entry split into its directory components and its file-name component.
    struct Pattern: Sendable, Equatable {
        let text: String
        /// The leading directory components without glob characters, e.g. `/var/log`.
        let base: String
        /// The directory components after `base` that contain glob characters or follow one.
        let directoryComponents: [String]
        let fileComponent: String
    }

    let includes: [Pattern]
    let excludes: [String]

    init(paths: [String], exclude: [String], workingDirectory: String) {
        includes = paths.map { Self.split(Self.absolute($0, in: workingDirectory)) }
        excludes = exclude
    }

    /// Whether `path` is matched by a `paths` pattern and by no `exclude` pattern.
    func matches(_ path: String) -> Bool {
        includes.contains { Self.fnmatch($0.text, path, flags: FNM_PATHNAME | FNM_PERIOD) } && !isExcluded(path)
    }

    func isExcluded(_ path: String) -> Bool {
        let name = Self.basename(path)
        return excludes.contains { pattern in
            pattern.contains("/")
                ? Self.fnmatch(pattern, path, flags: FNM_PATHNAME | FNM_PERIOD)
                : Self.fnmatch(pattern, name, flags: FNM_PERIOD)
        }
    }

    /// Every directory that must be watched: for each pattern, its base directory (or the
    /// nearest existing ancestor while the base does not exist yet) and each existing
    /// directory that its directory components match, level by level.
    func directoriesToWatch() -> Set<String> {
        var result = Set<String>()
        for pattern in includes {
            guard Self.isDirectory(pattern.base) else {
                result.insert(Self.nearestExistingAncestor(of: pattern.base))
                continue
            }
            result.insert(pattern.base)
            var level = [pattern.base]
            for component in pattern.directoryComponents {
                level = level.flatMap { Self.entries(of: $0, matching: component, directories: true) }
                result.formUnion(level)
            }
        }
        return result
    }

    /// Every path that matches now (regular files or symlinks to them; the caller stats
    /// each one), without duplicates.
    func scan() -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for pattern in includes {
            var level = Self.isDirectory(pattern.base) ? [pattern.base] : []
            for component in pattern.directoryComponents {
                level = level.flatMap { Self.entries(of: $0, matching: component, directories: true) }
            }
            for directory in level {
                for path in Self.entries(of: directory, matching: pattern.fileComponent, directories: false)
                where !isExcluded(path) && seen.insert(path).inserted {
                    result.append(path)
                }
            }
        }
        return result
    }

    // MARK: - Helpers

    static func split(_ text: String) -> Pattern {
        var components = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let file = components.popLast() ?? ""
        var base: [String] = []
        var index = 0
        while index < components.count, !hasGlob(components[index]) {
            base.append(components[index])
            index += 1
        }
        return Pattern(
            text: text, base: "/" + base.joined(separator: "/"),
            directoryComponents: Array(components[index...]), fileComponent: file)
    }

    static func hasGlob(_ component: String) -> Bool {
        component.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }

    static func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }

    static func fnmatch(_ pattern: String, _ string: String, flags: Int32) -> Bool {
        Glibc.fnmatch(pattern, string, flags) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func nearestExistingAncestor(of path: String) -> String {
        var current = path
        while current != "/" {
            guard let slash = current.lastIndex(of: "/") else { return "/" }
            current = slash == current.startIndex ? "/" : String(current[..<slash])
            if isDirectory(current) { return current }
        }
        return "/"
    }

    /// The entries of `directory` whose names match `component`: directories (following
    /// symlinks) when `directories`, otherwise anything that is not a directory.
    static func entries(of directory: String, matching component: String, directories: Bool) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        let literal = !hasGlob(component)
        var result: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if literal ? name != component : !fnmatch(component, name, flags: FNM_PERIOD) { continue }
            let path = join(directory, name)
            let type = entry.pointee.d_type
            let isDirectory: Bool
            switch Int32(type) {
            case Int32(DT_DIR): isDirectory = true
            case Int32(DT_REG): isDirectory = false
            default: isDirectory = Self.isDirectory(path)
            }
            if isDirectory == directories { result.append(path) }
        }
        return result
    }
}
