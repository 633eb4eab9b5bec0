/* STUB: up and down (runtime and supervisor work). */
#include <stdio.h>

#include "cmd/cli.h"

int cmd_up(struct cli *c, int argc, char **argv)
{
    fprintf(stderr, "berth: up: not implemented\n");
    return 1;
}

int cmd_down(struct cli *c, int argc, char **argv)
{
    fprintf(stderr, "berth: down: not implemented\n");
    return 1;
}
