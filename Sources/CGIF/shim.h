// giflib (Debian's libgif-dev), for timelapse's animated GIFs.
#include <gif_lib.h>
