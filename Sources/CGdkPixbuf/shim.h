#ifndef MAVIFS_CGDKPIXBUF_SHIM_H
#define MAVIFS_CGDKPIXBUF_SHIM_H

// gdk-pixbuf decodes the cover JPEGs, scales them and writes the PNG thumbnails with their tEXt
// keys (what GNOME's own thumbnailers use); GLib forms file URIs and their MD5 exactly as GIO does.
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

#endif
