#include "launcher.h"
int warden_launcher_placeholder(void) { return 0; }
