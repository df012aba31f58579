// The system zlib (Debian: zlib1g-dev), used to read gzipped dataset files.
#include <zlib.h>
