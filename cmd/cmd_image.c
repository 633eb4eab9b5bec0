/* STUB: load, image ls, image rm (to be written by the image module work). */
#include <stdio.h>

#include "cmd/cli.h"

int cmd_load(struct cli *c, int argc, char **argv)
{
    fprintf(stderr, "berth: load: not implemented\n");
    return 1;
}

int cmd_image(struct cli *c, int argc, char **argv)
{
    fprintf(stderr, "berth: image: not implemented\n");
    return 1;
}

int cmd_images_ls(struct cli *c, int argc, char **argv)
{
    return cmd_image(c, argc, argv);
}

int cmd_images_rm(struct cli *c, int argc, char **argv)
{
    return cmd_image(c, argc, argv);
}
