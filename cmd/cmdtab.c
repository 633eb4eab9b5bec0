/* SPDX-License-Identifier: Apache-2.0 */
/* The table of every command and flag, and what reads it: lookup of a command
 * or alias, the getopt_long tables, --format choices, --help and usage text.
 * Not here: completion scripts and man sections made from the same table
 * (cmd/cmd_completion.c), running the commands (cmd/cmd_*.c). */
#include "cmd/cmdtab.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"

/* clang-format off */
/* Rows name only the fields they use; the rest are zero (CC_NONE, NULL). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Each command's flags, one row per flag: long name, getopt key, whether the
 * key is a short flag too, value name, help, what the value completes to. */
static const struct cmd_flag up_flags[] = {
    {"detach", 'd', true, NULL, "Run containers in the background"},
    {"build", 'b', false, NULL, "Build images before starting containers"},
    {"no-build", 'B', false, NULL, "Don't build an image, even if it's missing"},
    {"wait", 'W', false, NULL, "Wait for services to be running|healthy (implies -d)"},
    {"abort-on-container-exit", 'A', false, NULL, "Stop all containers if any container exits"},
    {"exit-code-from", 'X', false, "SERVICE",
     "Return the exit code of SERVICE (implies --abort-on-container-exit)", CC_SERVICE},
    {"force-recreate", 'F', false, NULL, "Recreate containers even if unchanged"},
    {"no-recreate", 'N', false, NULL, "Keep existing containers even if changed"},
    {"remove-orphans", 'O', false, NULL, "Remove containers of services not in the file"},
    {"no-deps", 'D', false, NULL, "Don't start linked services"},
    {"scale", 'S', false, "SERVICE=NUM", "Scale SERVICE to NUM instances (repeatable)"},
    {"timeout", 't', true, "SECONDS",
     "Shutdown timeout when stopping containers (Ctrl-C, recreate)"},
    {"no-color", 'C', false, NULL, "Monochrome output"},
    {0},
};

static const struct cmd_flag down_flags[] = {
    {"remove-orphans", 'O', false, NULL, "Also remove containers of services not in the file"},
    {"timeout", 't', true, "SECONDS", "Shutdown timeout"},
    {"volumes", 'v', true, NULL, "Remove named volumes too"},
    {0},
};

static const struct cmd_flag ps_flags[] = {
    {"all", 'a', true, NULL, "Show all stopped containers"},
    {"format", 'F', false, "FORMAT", "table (default) or json", CC_LIST, "table json"},
    {"quiet", 'q', true, NULL, "Only display IDs"},
    {"services", 'S', false, NULL, "Display services"},
    {"status", 's', false, "STATUS",
     "Filter by status: paused, restarting, removing, running, dead, created, exited "
     "(repeatable)", CC_LIST, "paused restarting removing running dead created exited"},
    {"filter", 'f', false, "status=STATUS", "Filter by status, as --status"},
    {"no-trunc", 'T', false, NULL, "Don't truncate output"},
    {0},
};

static const struct cmd_flag ls_flags[] = {
    {"all", 'a', true, NULL, "Show all projects, stopped ones too"},
    {"quiet", 'q', true, NULL, "Only display project names"},
    {"format", 'F', false, "FORMAT", "table (default) or json", CC_LIST, "table json"},
    {0},
};

static const struct cmd_flag logs_flags[] = {
    {"follow", 'f', true, NULL, "Follow log output"},
    {"tail", 'n', true, "N", "Number of lines from the end of each log (all)"},
    {"timestamps", 't', true, NULL, "Show timestamps"},
    {"since", 'S', false, "TIME", "Since a time (RFC 3339, Unix time) or duration (10m)"},
    {"until", 'U', false, "TIME", "Until a time or duration"},
    {"no-color", 'C', false, NULL, "Monochrome output"},
    {"no-log-prefix", 'P', false, NULL, "Don't print the service prefix"},
    {"index", 'I', false, "N", "Only the N-th container of the service"},
    {0},
};

static const struct cmd_flag timeout_flags[] = {
    {"timeout", 't', true, "SECONDS", "Shutdown timeout"},
    {0},
};

static const struct cmd_flag kill_flags[] = {
    {"signal", 's', true, "SIGNAL", "Signal to send (default SIGKILL)", CC_SIGNAL},
    {0},
};

static const struct cmd_flag wait_flags[] = {
    {"down-project", 'D', false, NULL, "Stop and remove the project once they have stopped"},
    {0},
};

static const struct cmd_flag port_flags[] = {
    {"protocol", 'P', false, "PROTO", "tcp (default) or udp", CC_LIST, "tcp udp"},
    {"index", 'I', false, "N", "Index of the container if the service has several (default 1)"},
    {0},
};

static const struct cmd_flag rm_flags[] = {
    {"force", 'f', true, NULL, "Don't ask to confirm the removal"},
    {"stop", 's', true, NULL, "Stop the containers first"},
    {"volumes", 'v', true, NULL, "Remove the containers' anonymous volumes"},
    {0},
};

static const struct cmd_flag run_flags[] = {
    {"detach", 'd', true, NULL, "Run the container in the background, print its name"},
    {"rm", 'R', false, NULL, "Remove the container when it exits"},
    {"env", 'e', true, "KEY=VAL", "Set an environment variable (repeatable)"},
    {"entrypoint", 'E', false, "CMD", "Override the entrypoint"},
    {"name", 'N', false, "NAME", "Name the container"},
    {"no-deps", 'D', false, NULL, "Don't start linked services"},
    {"build", 'b', false, NULL, "Build the image before starting the container"},
    {"no-TTY", 'T', true, NULL, "Disable pseudo-TTY allocation"},
    {"tty", 't', true, NULL, "Allocate a pseudo-TTY"},
    {"interactive", 'i', true, NULL, "Keep standard input open (the default)"},
    {"user", 'u', true, "USER", "Run as this user", CC_NONE},
    {"workdir", 'w', true, "DIR", "Working directory inside the container"},
    {0},
};

static const struct cmd_flag exec_flags[] = {
    {"detach", 'd', true, NULL, "Detached mode: run the command in the background"},
    {"env", 'e', true, "KEY=VAL", "Set environment variables (repeatable)"},
    {"index", 'I', false, "N", "Index of the container if the service has several (default 1)"},
    {"privileged", 'P', false, NULL,
     "Give extended privileges to the process (every capability, no seccomp filter)"},
    {"no-TTY", 'T', true, NULL,
     "Disable pseudo-TTY allocation (default: a TTY when stdin and stdout are terminals)",
     CC_NONE, NULL, "no-tty"},
    {"tty", 't', true, NULL, "Allocate a pseudo-TTY (the default on a terminal)"},
    {"interactive", 'i', true, NULL, "Keep standard input open (the default)"},
    {"user", 'u', true, "USER", "Run the command as this user"},
    {"workdir", 'w', true, "DIR", "Working directory for the command"},
    {0},
};

static const struct cmd_flag config_flags[] = {
    {"format", 'F', false, "FORMAT", "yaml (default) or json", CC_LIST, "yaml json"},
    {"quiet", 'q', true, NULL, "Only validate the configuration, print nothing"},
    {"services", 'S', false, NULL, "Print the service names, one per line"},
    {"volumes", 'V', false, NULL, "Print the volume names, one per line"},
    {"networks", 'N', false, NULL, "Print the network names, one per line"},
    {"profiles", 'P', false, NULL, "Print the profile names, one per line"},
    {"images", 'I', false, NULL, "Print the image names, one per line"},
    {"hash", 'H', false, "SERVICE|*", "Print the config hash of services, one per line",
     CC_SERVICE},
    {"no-interpolate", 'n', false, NULL, "Don't interpolate environment variables"},
    {"output", 'o', true, "FILE", "Write to FILE instead of standard output", CC_FILE},
    {0},
};

static const struct cmd_flag load_flags[] = {
    {"input", 'i', true, "FILE", "Read the archive from FILE instead of standard input",
     CC_FILE},
    {"quiet", 'q', true, NULL, "Print nothing but errors"},
    {0},
};

static const struct cmd_flag image_save_flags[] = {
    {"output", 'o', true, "FILE", "Write to FILE instead of standard output", CC_FILE},
    {0},
};

static const struct cmd_flag image_ls_flags[] = {
    {"quiet", 'q', true, NULL, "Only show image IDs"},
    {"format", 'F', false, "FORMAT", "table (default) or json", CC_LIST, "table json"},
    {"no-trunc", 'T', false, NULL, "Don't truncate output"},
    {"all", 'a', true, NULL, "Show all images (they all are; for docker's scripts)"},
    {0},
};

static const struct cmd_flag image_pull_flags[] = {
    {"quiet", 'q', true, NULL, "Print nothing but errors"},
    {"platform", 'P', false, "OS/ARCH[/VARIANT]",
     "Pull the image of this platform (default: this machine's)"},
    {0},
};

static const struct cmd_flag image_inspect_flags[] = {
    {"format", 'f', true, "FORMAT",
     "json (one line per image), or a template of {{.Field.Sub}} and {{json .Field}}"},
    {0},
};

static const struct cmd_flag image_prune_flags[] = {
    {"all", 'a', true, NULL, "Remove every image no container uses, not just dangling ones"},
    {"force", 'f', true, NULL, "Do not prompt for confirmation"},
    {0},
};

static const struct cmd_flag pull_flags[] = {
    {"quiet", 'q', true, NULL, "Pull without printing progress information"},
    {"ignore-pull-failures", 'I', false, NULL, "Warn about images that fail to pull, and exit 0"},
    {"include-deps", 'D', false, NULL, "Also pull services declared as dependencies"},
    {0},
};

static const struct cmd_flag image_push_flags[] = {
    {"quiet", 'q', true, NULL, "Print only the reference pushed (and errors)"},
    {0},
};

static const struct cmd_flag push_flags[] = {
    {"quiet", 'q', true, NULL, "Push without printing progress information"},
    {"ignore-push-failures", 'I', false, NULL, "Push what it can and ignore images that fail"},
    {"include-deps", 'D', false, NULL, "Also push images of services declared as dependencies"},
    {0},
};

static const struct cmd_flag build_flags[] = {
    {"no-cache", 'N', false, NULL, "Do not use cache when building the image"},
    {"pull", 'P', false, NULL, "Always attempt to pull a newer version of the base images"},
    {"build-arg", 'B', false, "KEY=VAL",
     "Set a build-time variable, overriding build.args (repeatable; KEY alone: from the "
     "environment)"},
    {"quiet", 'q', true, NULL, "Don't print anything but errors"},
    {"push", 'U', false, NULL, "Push the service images after building them"},
    {"with-dependencies", 'D', false, NULL,
     "Also build the services the named ones depend on"},
    {0},
};

static const struct cmd_flag image_build_flags[] = {
    {"tag", 't', true, "NAME[:TAG]", "Name the image (repeatable)"},
    {"file", 'f', true, "FILE", "The Dockerfile (default: CONTEXT/Dockerfile; - for standard "
     "input)", CC_FILE},
    {"build-arg", 'B', false, "KEY=VAL", "Set a build-time variable (repeatable)"},
    {"target", 'T', false, "STAGE", "Build the stage STAGE (default: the last)"},
    {"no-cache", 'N', false, NULL, "Do not use cache when building the image"},
    {"pull", 'P', false, NULL, "Always attempt to pull a newer version of the base images"},
    {"quiet", 'q', true, NULL, "Print only the image ID"},
    {"label", 'L', false, "KEY=VAL", "Set a label on the image (repeatable)"},
    {"network", 'n', false, "MODE", "The network of RUN steps: default, host or none",
     CC_LIST, "default host none"},
    {"platform", 'p', false, "OS/ARCH", "The platform to build for (only this host's)"},
    {"secret", 'S', false, "id=ID,src=PATH",
     "A secret for RUN --mount=type=secret (id=ID,src=PATH or id=ID,env=VAR; repeatable)"},
    {"add-host", 'H', false, "HOST:IP", "Add a line to RUN steps' /etc/hosts (repeatable)"},
    {"shm-size", 'M', false, "SIZE", "Size of RUN steps' /dev/shm (default 64m)"},
    {0},
};

static const struct cmd_flag login_flags[] = {
    {"username", 'u', true, "USER", "Username"},
    {"password", 'p', true, "PASSWORD", "Password (visible to other users: prefer --password-stdin)"},
    {"password-stdin", 'S', false, NULL, "Take the password from stdin"},
    {0},
};

static const struct cmd_flag image_rm_flags[] = {
    {"force", 'f', true, NULL, "Remove the image even if containers use it"},
    {"no-prune", 'P', false, NULL, "Keep untagged parents (berth's images have none)"},
    {0},
};

static const struct cmd_flag info_flags[] = {
    {"format", 'f', true, "FORMAT", "text (default) or json", CC_LIST, "text json"},
    {0},
};

static const struct cmd_flag version_flags[] = {
    {"format", 'f', true, "FORMAT", "pretty (default) or json", CC_LIST, "pretty json"},
    {"short", 's', false, NULL, "Show only the version number"},
    {0},
};

static const struct cmd_flag events_flags[] = {
    {"json", 'J', false, NULL, "Output events as a stream of json objects"},
    {"since", 'S', false, "TIME",
     "Replay the supervisor's recent events from TIME (RFC 3339, Unix time, or 10m)"},
    {"until", 'U', false, "TIME", "Stream events until TIME"},
    {0},
};

static const struct cmd_flag help_flags[] = {
    {"man-source", 'M', false, NULL, "Print the man page's command sections (scdoc)"},
    {"list", 'L', false, NULL, "Print the command names, one per line"},
    {0},
};

/* berth's own flags, before the command. */
const struct cmd_flag cmd_global_flags[] = {
    {"file", 'f', true, "FILE", "Compose configuration files (repeatable)", CC_FILE},
    {"project-name", 'p', true, "NAME", "Project name"},
    {"project-directory", 'D', false, "DIR", "Alternate working directory", CC_DIR},
    {"profile", 'P', false, "PROFILE", "Enable a profile (repeatable)", CC_PROFILE},
    {"env-file", 'E', false, "FILE", "An alternate environment file (repeatable)", CC_FILE},
    {"progress", 'G', false, "TYPE", "Progress output: auto, tty, plain, json or quiet",
     CC_LIST, "auto tty plain json quiet"},
    {"ansi", 'A', false, "WHEN", "Colours and cursor movement: never, always or auto",
     CC_LIST, "never always auto"},
    {"version", 'v', true, NULL, "Print version and exit"},
    {0},
};

/* Every command, in the order `berth --help` lists them. A subcommand's
 * row ("image ls") follows its parent's. */
const struct cmd_def cmd_table[] = {
    {.name = "up", .fn = cmd_up, .summary = "Create and start containers",
     .usage = "[OPTIONS] [SERVICE...]",
     .about = "Create and start containers. Attached (the default), their output is streamed\n"
              "until they exit and Ctrl-C stops them (twice: kills them).",
     .flags = up_flags, .args = CA_SERVICES},
    {.name = "down", .fn = cmd_down, .summary = "Stop and remove containers",
     .usage = "[OPTIONS]", .flags = down_flags},
    {.name = "ps", .fn = cmd_ps, .summary = "List containers",
     .usage = "[OPTIONS] [SERVICE...]", .flags = ps_flags, .args = CA_SERVICES},
    {.name = "ls", .fn = cmd_ls, .summary = "List running projects",
     .usage = "[-a] [-q] [--format table|json]", .flags = ls_flags},
    {.name = "logs", .fn = cmd_logs, .summary = "View output from containers",
     .usage = "[OPTIONS] [SERVICE...]", .flags = logs_flags, .args = CA_SERVICES},
    {.name = "start", .fn = cmd_start, .summary = "Start services",
     .usage = "[SERVICE...]", .args = CA_SERVICES},
    {.name = "stop", .fn = cmd_stop, .summary = "Stop services",
     .usage = "[-t SECONDS] [SERVICE...]", .flags = timeout_flags, .args = CA_SERVICES},
    {.name = "restart", .fn = cmd_restart, .summary = "Restart services",
     .usage = "[-t SECONDS] [SERVICE...]", .flags = timeout_flags, .args = CA_SERVICES},
    {.name = "kill", .fn = cmd_kill, .summary = "Force stop services",
     .usage = "[-s SIGNAL] [SERVICE...]",
     .about = "Force stop service containers (SIGKILL by default).",
     .flags = kill_flags, .args = CA_SERVICES},
    {.name = "pause", .fn = cmd_pause, .summary = "Pause services",
     .usage = "[SERVICE...]", .args = CA_SERVICES},
    {.name = "unpause", .fn = cmd_unpause, .summary = "Unpause services",
     .usage = "[SERVICE...]", .args = CA_SERVICES},
    {.name = "wait", .fn = cmd_wait, .summary = "Block until containers of services stop",
     .usage = "[--down-project] SERVICE...",
     .about = "Block until containers of all (or specified) services stop.",
     .flags = wait_flags, .args = CA_SERVICES},
    {.name = "rm", .fn = cmd_rm, .summary = "Remove stopped containers",
     .usage = "[-f] [-s] [-v] [SERVICE...]", .about = "Remove stopped service containers.",
     .flags = rm_flags, .args = CA_SERVICES},
    {.name = "run", .fn = cmd_run, .summary = "Run a one-off command on a service",
     .usage = "[OPTIONS] SERVICE [COMMAND] [ARGS...]", .flags = run_flags,
     .args = CA_SERVICE_FIRST},
    {.name = "exec", .fn = cmd_exec, .summary = "Execute a command in a running container",
     .usage = "[OPTIONS] SERVICE COMMAND [ARGS...]", .flags = exec_flags,
     .args = CA_SERVICE_FIRST},
    {.name = "top", .fn = cmd_top, .summary = "Display the running processes",
     .usage = "[SERVICE...]",
     .about = "Display the running processes of the project's containers.",
     .args = CA_SERVICES},
    {.name = "port", .fn = cmd_port, .summary = "Print the public port for a port binding",
     .usage = "[--protocol tcp|udp] [--index N] SERVICE PRIVATE_PORT",
     .about = "Print the host address (HOST_IP:PORT) that a service container's port is\n"
              "published on, the random one too. Exits 1 when the port is not published.",
     .flags = port_flags, .args = CA_SERVICE_PORT},
    {.name = "events", .fn = cmd_events, .summary = "Receive real time events from containers",
     .usage = "[--json] [--since TIME] [--until TIME] [SERVICE...]",
     .about = "Stream the container events of a running project (create, start, health_status,\n"
              "die, restart, kill, stop, pause, ...) from its supervisor, until it ends. The\n"
              "supervisor keeps its last 256 events: with --since, those from TIME come first.\n"
              "Fails when no supervisor runs the project.",
     .flags = events_flags, .args = CA_SERVICES},
    {.name = "config", .fn = cmd_config,
     .summary = "Parse, resolve and render compose files in canonical format",
     .usage = "[OPTIONS] [SERVICE...]", .flags = config_flags, .args = CA_SERVICES},
    {.name = "pull", .fn = cmd_pull, .summary = "Pull service images",
     .usage = "[OPTIONS] [SERVICE...]",
     .about = "Pull the images of the named services (all when none), each image once, in\n"
              "file order. Services with build: and no image, those whose pull_policy is\n"
              "never, and those whose pull_policy is missing and whose image is present\n"
              "are skipped.",
     .flags = pull_flags, .args = CA_SERVICES, .permute = true},
    {.name = "build", .fn = cmd_build, .summary = "Build or rebuild services",
     .usage = "[OPTIONS] [SERVICE...]",
     .about = "Build the images of the named services (all when none) from their build:\n"
              "sections, in dependency order, each image once; services without build: are\n"
              "skipped. Each image is tagged with the service's image: (default\n"
              "PROJECT-SERVICE) and build.tags.",
     .flags = build_flags, .args = CA_SERVICES, .permute = true},
    {.name = "push", .fn = cmd_push, .summary = "Push service images",
     .usage = "[OPTIONS] [SERVICE...]",
     .about = "Push the images of the named services (all when none) to their registries, each\n"
              "image once, in file order. Services without image: are skipped; a service\n"
              "whose image is not in the store fails.",
     .flags = push_flags, .args = CA_SERVICES, .permute = true},
    {.name = "login", .fn = cmd_login, .summary = "Log in to a registry",
     .usage = "[-u USER] [-p PASSWORD | --password-stdin] [SERVER]",
     .about = "Log in to a registry (docker.io when no SERVER is given): the credentials are\n"
              "checked against the registry, then stored in Docker's config.json\n"
              "($DOCKER_CONFIG/config.json, else ~/.docker/config.json; its auths), where\n"
              "pulls find them. Credential helpers (credsStore, credHelpers) are not used.",
     .flags = login_flags, .permute = true},
    {.name = "logout", .fn = cmd_logout, .summary = "Log out from a registry",
     .usage = "[SERVER]",
     .about = "Remove a registry's credentials (docker.io when no SERVER is given) from\n"
              "Docker's config.json.",
     .permute = true},
    {.name = "load", .fn = cmd_load,
     .summary = "Load an image from a tar archive (docker save or OCI layout)",
     .usage = "[-i FILE] [-q]",
     .about = "Load an image from a tar archive (docker save or OCI layout; plain, gzip or\n"
              "zstd) or from standard input.",
     .flags = load_flags, .permute = true},
    {.name = "image", .fn = cmd_image, .summary = "Manage images (ls, build, pull, push, rm, inspect, tag, prune, save)",
     .usage = "COMMAND", .args = CA_SUBCOMMAND},
    {.name = "image ls", .fn = cmd_images_ls, .summary = "List images (also: berth images)",
     .usage = "[-q] [--format json|table] [--no-trunc]", .about = "List images.",
     .flags = image_ls_flags, .permute = true},
    {.name = "image rm", .fn = cmd_images_rm, .summary = "Remove images (also: berth rmi)",
     .usage = "[-f] IMAGE...", .about = "Remove images.", .flags = image_rm_flags,
     .permute = true},
    {.name = "image build", .fn = cmd_images_build,
     .summary = "Build an image from a Dockerfile (docker build)",
     .usage = "[OPTIONS] CONTEXT",
     .about = "Build an image as `docker build` does, from the Dockerfile in the directory\n"
              "CONTEXT (or -f FILE), and tag it with each -t. CONTEXT - reads the Dockerfile\n"
              "from standard input and gives it no context. With -q only the image ID is\n"
              "printed.",
     .flags = image_build_flags, .args = CA_FILES, .permute = true},
    {.name = "image pull", .fn = cmd_images_pull, .summary = "Pull an image from a registry",
     .usage = "[-q] [--platform OS/ARCH[/VARIANT]] IMAGE",
     .about = "Pull an image from a registry: the manifest for linux and this machine's\n"
              "architecture (or --platform's), and every blob the store lacks, each verified\n"
              "by its digest. An image of another architecture is stored but not run.\n"
              "Registries on loopback (localhost, 127.0.0.0/8, ::1) are spoken to over plain\n"
              "HTTP, others over HTTPS; credentials come from Docker's config.json (berth\n"
              "login).",
     .flags = image_pull_flags, .permute = true},
    {.name = "image push", .fn = cmd_images_push, .summary = "Push an image to a registry",
     .usage = "[-q] IMAGE",
     .about = "Push an image from the store to its registry: each layer and the config the\n"
              "registry lacks (mounted from another repository of the registry that has it\n"
              "when the image has a reference there), then the manifest as stored, so its\n"
              "digest is the same. Authentication is not supported yet.",
     .flags = image_push_flags, .permute = true},
    {.name = "image inspect", .fn = cmd_images_inspect,
     .summary = "Display detailed information on one or more images",
     .usage = "[-f FORMAT] IMAGE...",
     .about = "Display detailed information on images, as `docker image inspect`: a JSON\n"
              "array, or with -f a line per image (json, or a template).",
     .flags = image_inspect_flags, .permute = true},
    {.name = "image tag", .fn = cmd_images_tag,
     .summary = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
     .usage = "SOURCE_IMAGE TARGET_IMAGE"},
    {.name = "image prune", .fn = cmd_images_prune, .summary = "Remove unused images",
     .usage = "[-a] [-f]",
     .about = "Remove dangling images (no tag names them); with -a every image no container\n"
              "uses. Then the blobs and layers no image needs. Asks first unless -f.",
     .flags = image_prune_flags, .permute = true},
    {.name = "image load", .fn = cmd_load,
     .summary = "Load an image from a tar archive (also: berth load)", .alias_of = "load"},
    {.name = "image save", .fn = cmd_images_save,
     .summary = "Save images to a tar archive (docker save)",
     .usage = "[-o FILE] IMAGE...",
     .about = "Write images to a tar archive as `docker save` does: a docker-archive that is\n"
              "also an OCI image layout, each layer an uncompressed tar, blobs the images\n"
              "share once. To standard output unless -o, never to a terminal. With -o the\n"
              "file appears only when complete.",
     .flags = image_save_flags, .permute = true},
    {.name = "image repair", .fn = cmd_images_repair,
     .summary = "Rebuild a damaged image index from the store",
     .usage = "",
     .about = "Rebuild a damaged image index from the store's manifests.\n"
              "References the damaged index still names are kept; the damaged file is kept\n"
              "as images.json.corrupt."},
    {.name = "images", .fn = cmd_images_ls, .alias_of = "image ls", .hidden = true},
    {.name = "rmi", .fn = cmd_images_rm, .alias_of = "image rm", .hidden = true},
    {.name = "completion", .fn = cmd_completion,
     .summary = "Print a shell completion script (bash, zsh or fish)",
     .usage = "bash|zsh|fish",
     .about = "Print the completion script of a shell. Commands, flags and their values\n"
              "complete; service names come from `berth config --services` in the current\n"
              "directory (with -f, -p and --project-directory given on the line).",
     .args = CA_LIST, .arg_choices = "bash zsh fish"},
    {.name = "info", .fn = cmd_info,
     .summary = "Show what berth finds on this host; fails when it cannot run containers",
     .usage = "[--format text|json]",
     .about = "Show what berth finds on this host (kernel features, cgroups, overlay) and in\n"
              "its store; exits 1 when berth cannot run containers here, saying why.",
     .flags = info_flags},
    {.name = "version", .fn = cmd_version, .summary = "Show the berth version",
     .usage = "[--short] [--format pretty|json]",
     .about = "Show the berth version and the commit it was built from.",
     .flags = version_flags},
    {.name = "help", .fn = cmd_help, .summary = "Show the command list", .usage = "[OPTIONS]",
     .flags = help_flags, .hidden = true},
};

#pragma GCC diagnostic pop
/* clang-format on */

const size_t cmd_table_len = sizeof cmd_table / sizeof cmd_table[0];

const struct cmd_def *cmd_find(const char *name)
{
    for (size_t i = 0; i < cmd_table_len; i++)
        if (strcmp(cmd_table[i].name, name) == 0)
            return &cmd_table[i];
    return NULL;
}

const struct cmd_def *cmd_resolve(const struct cmd_def *def)
{
    const struct cmd_def *to = def->alias_of ? cmd_find(def->alias_of) : NULL;
    return to ? to : def;
}

static void add_option(struct cmd_parser *p, size_t *n, const char *name, const char *value,
                       int key)
{
    if (*n + 1 >= sizeof p->longopts / sizeof p->longopts[0])
        abort(); /* CMD_MAX_FLAGS is too small for the table */
    p->longopts[(*n)++] = (struct option){name, value ? required_argument : no_argument, NULL, key};
}

void cmd_parser_init_flags(struct cmd_parser *p, const struct cmd_flag *flags)
{
    size_t n = 0, s = 0;
    p->name = NULL; /* berth's own flags: the caller says what is wrong */
    p->shortopts[s++] = '+';
    for (size_t i = 0; flags && flags[i].name; i++) {
        add_option(p, &n, flags[i].name, flags[i].value, flags[i].key);
        if (flags[i].alias)
            add_option(p, &n, flags[i].alias, flags[i].value, flags[i].key);
        if (flags[i].has_short) {
            p->shortopts[s++] = (char)flags[i].key;
            if (flags[i].value)
                p->shortopts[s++] = ':';
        }
    }
    add_option(p, &n, "help", NULL, 'h');
    p->shortopts[s++] = 'h';
    p->shortopts[s] = '\0';
    p->longopts[n] = (struct option){0};
}

void cmd_parser_init(struct cmd_parser *p, const char *name)
{
    const struct cmd_def *def = cmd_find(name);
    if (!def)
        abort(); /* a command without a row in cmd_table */
    cmd_parser_init_flags(p, cmd_resolve(def)->flags);
    p->name = name;
    p->def = cmd_resolve(def);
    if (p->def->permute) /* drop the leading "+" */
        memmove(p->shortopts, p->shortopts + 1, strlen(p->shortopts));
}

int cmd_parser_next(struct cmd_parser *p, int argc, char **argv)
{
    opterr = 0;
    int opt = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
    if (opt == '?' && p->name)
        fprintf(stderr, "berth %s: unknown flag or missing value: %s (see 'berth %s --help')\n",
                p->name, argv[optind - 1], p->name);
    return opt;
}

const char *cmd_global_choices(int key)
{
    for (size_t i = 0; cmd_global_flags[i].name; i++)
        if (cmd_global_flags[i].key == key)
            return cmd_global_flags[i].choices;
    abort(); /* not a global flag: a programming error */
}

int cmd_parser_choice(const struct cmd_parser *p, int key, const char *value)
{
    const struct cmd_flag *fl = NULL;
    for (size_t i = 0; p->def->flags && p->def->flags[i].name && !fl; i++)
        if (p->def->flags[i].key == key)
            fl = &p->def->flags[i];
    if (!fl || !fl->choices)
        abort(); /* not a CC_LIST flag of this command: a programming error */
    const char *v = strcmp(value, "{{json .}}") == 0 ? "json" : value;
    int idx = 0;
    for (const char *w = fl->choices; *w; idx++) {
        size_t n = strcspn(w, " ");
        if (strlen(v) == n && strncmp(w, v, n) == 0)
            return idx;
        w += n;
        w += strspn(w, " ");
    }
    fprintf(stderr, "berth %s: unsupported --%s \"%s\" (one of: %s)\n", p->name, fl->name, value,
            fl->choices);
    return -1;
}

/* Writes text from column col, wrapping at 80 columns and indenting
 * continuation lines to col. */
static void print_wrapped(const char *text, size_t col, size_t at, FILE *f)
{
    size_t pos = at;
    const char *w = text;
    bool first = true;
    while (*w) {
        while (*w == ' ')
            w++;
        size_t len = strcspn(w, " ");
        if (!len)
            break;
        if (!first && pos + 1 + len > 80) {
            fprintf(f, "\n%*s", (int)col, "");
            pos = col;
        } else if (!first) {
            fputc(' ', f);
            pos++;
        }
        fwrite(w, 1, len, f);
        pos += len;
        w += len;
        first = false;
    }
    fputc('\n', f);
}

static size_t flag_left(const struct cmd_flag *fl, char *buf, size_t size)
{
    int n = snprintf(buf, size, "  %c%c%s--%s%s%s%s%s", fl->has_short ? '-' : ' ',
                     fl->has_short ? fl->key : ' ', fl->has_short ? ", " : "  ", fl->name,
                     fl->alias ? ", --" : "", fl->alias ? fl->alias : "", fl->value ? " " : "",
                     fl->value ? fl->value : "");
    return n < 0 ? 0 : (size_t)n;
}

void cmd_print_flags(const struct cmd_flag *flags, FILE *f)
{
    char buf[128];
    size_t width = 0;
    for (size_t i = 0; flags && flags[i].name; i++) {
        size_t n = flag_left(&flags[i], buf, sizeof buf);
        if (n > width)
            width = n;
    }
    width += 2;
    for (size_t i = 0; flags && flags[i].name; i++) {
        size_t n = flag_left(&flags[i], buf, sizeof buf);
        fprintf(f, "%s%*s", buf, (int)(width - n), "");
        print_wrapped(flags[i].help, width, width, f);
    }
}

void cmd_print_help(const struct cmd_def *def, FILE *f)
{
    const struct cmd_def *d = cmd_resolve(def);
    fprintf(f, "Usage: berth %s%s%s\n\n", d->name, *d->usage ? " " : "", d->usage);
    if (d->about)
        fprintf(f, "%s\n", d->about);
    else
        fprintf(f, "%s.\n", d->summary);
    if (d->flags && d->flags[0].name) {
        fputs("\nOptions:\n", f);
        cmd_print_flags(d->flags, f);
    }
    bool subs = false;
    size_t len = strlen(d->name);
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_def *s = &cmd_table[i];
        if (s->hidden || strncmp(s->name, d->name, len) != 0 || s->name[len] != ' ')
            continue;
        if (!subs)
            fputs("\nCommands:\n", f);
        subs = true;
        fprintf(f, "  %-8s  %s\n", s->name + len + 1, s->summary);
    }
}

void cmd_print_usage(FILE *f)
{
    fputs("Usage: berth [OPTIONS] COMMAND\n"
          "\n"
          "Run docker-compose files on this host, with no daemon.\n"
          "\n"
          "Options:\n",
          f);
    cmd_print_flags(cmd_global_flags, f);
    fputs("\nCommands:\n", f);
    for (size_t i = 0; i < cmd_table_len; i++)
        if (!cmd_table[i].hidden && !strchr(cmd_table[i].name, ' '))
            fprintf(f, "  %-10s  %s\n", cmd_table[i].name, cmd_table[i].summary);
    fputs("\nRun 'berth COMMAND --help' for a command's options.\n"
          "\nEnvironment: BERTH_ROOT (default /var/lib/berth), BERTH_RUNROOT (default "
          "/run/berth)\n",
          f);
}
