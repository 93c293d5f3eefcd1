"""The PureBoot deploy agent: a kernel + busybox initramfs built from Debian packages."""
