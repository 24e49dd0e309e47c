#ifndef WARDEN_LAUNCHER_H
#define WARDEN_LAUNCHER_H
// Placeholder: the launcher's flat launch struct and launch() are declared here.
int warden_launcher_placeholder(void);
#endif
