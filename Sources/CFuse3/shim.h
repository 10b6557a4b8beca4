#ifndef MAVIFS_CFUSE3_SHIM_H
#define MAVIFS_CFUSE3_SHIM_H

// 3.12+ is needed so that fuse_session_loop_mt and fuse_parse_cmdline are real functions,
// not function-like macros Swift cannot import. Re-check on libfuse 3.17+, where
// fuse_session_new becomes a versioned helper.
#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <errno.h>

#endif
