import CFuse3
import Glibc

/// Builds a `struct fuse_args` by hand: `FUSE_ARGS_INIT` is a macro Swift cannot import.
enum FUSEArguments {
    static func with<R>(_ arguments: [String], _ body: (UnsafeMutablePointer<fuse_args>) -> R) -> R {
        var args = fuse_args(argc: 0, argv: nil, allocated: 0)
        for a in arguments {
            _ = fuse_opt_add_arg(&args, a)
        }
        defer { fuse_opt_free_args(&args) }
        return body(&args)
    }
}
