/* SPDX-License-Identifier: Apache-2.0 */
/* The floor for bench_config.sh: parse YAML files with libyaml's event API
 * and do nothing else (what any loader pays at least). */
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

int main(int argc, char **argv)
{
    long events = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        yaml_parser_t p;
        yaml_parser_initialize(&p);
        yaml_parser_set_input_file(&p, f);
        for (;;) {
            yaml_event_t ev;
            if (!yaml_parser_parse(&p, &ev)) {
                fprintf(stderr, "%s: %s\n", argv[i], p.problem);
                return 1;
            }
            int done = ev.type == YAML_STREAM_END_EVENT;
            yaml_event_delete(&ev);
            events++;
            if (done)
                break;
        }
        yaml_parser_delete(&p);
        fclose(f);
    }
    printf("%ld\n", events);
    return 0;
}
