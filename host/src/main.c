/* main.c — the qts executable: everything else lives in qts_core. */
#include "cli.h"

int main(int argc, char **argv) { return qts_cli_main(argc, argv); }
