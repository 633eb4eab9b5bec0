/* SPDX-License-Identifier: Apache-2.0 */
/* main(): hands the arguments to cli_main. Not here: everything else
 * (cmd/cli.c parses global flags and dispatches). */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
