// One translation unit: every kernel file, and the emulator registry (see README.md).
