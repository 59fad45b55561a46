//! Images: references, a registry client with mirrors and auth, a content
//! store laid out as an OCI image layout, and layer unpacking into numbered
//! snapshot directories that become the lower layers of an overlay rootfs.
