#ifndef MAVIFS_CMALLOC_SHIM_H
#define MAVIFS_CMALLOC_SHIM_H

// glibc's heap tuning (mallopt), which Swift's Glibc module leaves out.
#include <malloc.h>

#endif
