/// The command line mount(8) uses for an `/etc/fstab` line, turned into `mavifs mount`'s own.
///
/// For a line of type `fuse.mavifs` (or `mavifs#SOURCE` with type `fuse`), mount(8) and
/// mount.fuse3 run `mavifs SOURCE MOUNTPOINT -o OPTIONS`:
///
/// ```
/// http://127.0.0.1:8080  /mnt/videos  fuse.mavifs  noauto,user,api_key_file=/home/me/.mavi-key,list_ttl=120  0 0
/// ```
///
/// SOURCE is the endpoint when it is a URL (anything else, such as `mavifs`, only names the mount).
/// Options that mount(8) and FUSE define stay mount options; every other one is a `mount` flag
/// with underscores for dashes: `allow_delete` is `--allow-delete`, `cache_max_size=20G` is
/// `--cache-max-size 20G`.
enum FstabInvocation {
    /// Options handed to the FUSE mount itself (see `ParsedMountOptions`).
    static let mountOptionNames: Set<String> = [
        "ro", "rw", "allow_other", "uid", "gid", "umask",
        "defaults", "nofail", "noauto", "auto", "user", "users", "nouser", "owner", "_netdev",
        "nosuid", "nodev", "noexec", "exec", "suid", "dev",
    ]

    /// `mount`'s arguments for an fstab-style command line, or nil when `arguments` (without the
    /// program name) is not one: a subcommand, an option, or fewer than two words come first.
    static func mountArguments(from arguments: [String], subcommands: Set<String>) -> [String]? {
        guard arguments.count >= 2, let source = arguments.first, !source.hasPrefix("-"), !subcommands.contains(source),
              arguments[1].hasPrefix("/") else { return nil }
        var result = ["mount", arguments[1]]
        if source.contains("://") { result += ["--endpoint", source] }
        var mountOptions: [String] = []
        var rest = arguments.dropFirst(2)
        while let argument = rest.popFirst() {
            let list: String
            if argument == "-o", let next = rest.popFirst() {
                list = next
            } else if argument.hasPrefix("-o") {
                list = String(argument.dropFirst(2))
            } else {
                result.append(argument)
                continue
            }
            for option in list.split(separator: ",").map(String.init) where !option.isEmpty {
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                let name = parts[0]
                // systemd's x-* options and comments are for other readers of fstab.
                if name.hasPrefix("x-") || name == "comment" { continue }
                if mountOptionNames.contains(name) {
                    mountOptions.append(option)
                } else {
                    result.append("--" + name.replacingOccurrences(of: "_", with: "-"))
                    if parts.count == 2 { result.append(parts[1]) }
                }
            }
        }
        if !mountOptions.isEmpty { result += ["-o", mountOptions.joined(separator: ",")] }
        return result
    }
}
