/* cli.h -- the lumos subcommands. Each takes argc/argv starting at its own
 * name and returns the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef LM_CLI_H
#define LM_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "report/doc.h"
#include "report/summary.h"

#define LM_CLI_VERSION "0.1.0"

int lm_cmd_build(int argc, char **argv);
int lm_cmd_functions(int argc, char **argv);
int lm_cmd_runtimes(int argc, char **argv);
int lm_cmd_invoke(int argc, char **argv);
int lm_cmd_data(int argc, char **argv);
int lm_cmd_run(int argc, char **argv);
int lm_cmd_run_direct(int argc, char **argv); /* lumos run --direct */
int lm_cmd_exec(int argc, char **argv);
int lm_cmd_serve(int argc, char **argv);
int lm_cmd_report(int argc, char **argv);
int lm_cmd_load(int argc, char **argv);
int lm_cmd_trace(int argc, char **argv);
/* `lumos trace azure2019|azure2021|synth` (cmd_trace_azure.c), argv at the subcommand. */
int lm_cmd_trace_azure(int argc, char **argv);
int lm_cmd_results(int argc, char **argv);
int lm_cmd_model(int argc, char **argv);
int lm_cmd_compare(int argc, char **argv);
int lm_cmd_deploy(int argc, char **argv); /* cmd_deploy.c: lumos deploy --platform knative */
int lm_cmd_agent(int argc, char **argv);  /* cmd_agent.c: a node's pods' cgroups over HTTP */
int lm_cmd_push(int argc, char **argv);   /* cmd_push.c: images to a registry (skopeo) */
int lm_cmd_shape(int argc, char **argv);
int lm_cmd_nodes(int argc, char **argv);

/* Fills targets[0..max) with the build target of each runtime a report
 * names (NULL for one this Lumos does not know) and points d's info at it;
 * targets must outlive d's use. The report room knows no runtimes: the
 * command that makes a report wires them in. */
void lm_cli_report_targets(lm_report_data *d, const char **targets, size_t max);

/* Reads db into the whole report (doc.h; base's settings, or the
 * defaults when NULL) and writes its folder dir (index.html, figures/,
 * rows/), prints its notes on stderr and, when where is not NULL,
 * "report: DIR/index.html (N figures)" there. LM_OK or LM_ERR with err. */
int lm_cli_report_html(const char *db, const char *dir, const lm_report_doc_opts *base, FILE *where,
                       char *err);

/* Prints "lumos: <msg>" to stderr and returns 1. */
int lm_cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints a usage error with a pointer to --help and returns 2. */
int lm_cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* True if argv holds -h or --help (before any "--"). */
int lm_cli_wants_help(int argc, char **argv);
/* Parses a non-negative integer with an optional k/M suffix (1k = 1000).
 * Returns 0 or -1. */
int lm_cli_parse_count(const char *s, long long *out);

#endif
