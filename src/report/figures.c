/* figures.c -- the report's figures (internal.h): a table of makers, one
 * file each (fig_*.c), that write each figure's data (ID.csv) and gnuplot
 * script (ID.gp) into DIR/figures; then gnuplot draws every script into
 * ID.svg and ID.png. Adding a figure is adding a maker and a table entry.
 * Without gnuplot the data and scripts stay, and a note says so. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/internal.h"

static int (*const makers[])(lm_report_doc *, char *) = {
    lm__fig_sizes,     lm__fig_latency,     lm__fig_cold,     lm__fig_breakdown, lm__fig_cdf,
    lm__fig_resources, lm__fig_concurrency, lm__fig_timeline, lm__fig_env,
};

void lm__fig_label(char *out, size_t n, const char *s) {
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++) {
        unsigned char c = (unsigned char)*s;
        out[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           strchr("@/:._+- ", c)
                       ? (char)c
                       : '_';
    }
    out[k] = 0;
}

void lm__fig_num(FILE *f, double v) {
    if (isnan(v) || isinf(v))
        fputs("NaN", f);
    else
        fprintf(f, "%.9g", v);
}

int lm__fig_begin(lm_report_doc *d, lm__fig *f, const char *id, const char *title,
                  const char *caption, char *err) {
    memset(f, 0, sizeof *f);
    f->d = d;
    lm__fig_label(f->id, sizeof f->id, id);
    for (char *p = f->id; *p; p++)
        if (*p == '/' || *p == ' ' || *p == ':' || *p == '@') *p = '_';
    snprintf(f->path, sizeof f->path, "%s/figures/%s", d->o.dir, f->id);
    char p[2100];
    snprintf(p, sizeof p, "%s.csv", f->path);
    if (!(f->csv = fopen(p, "w"))) return lm_errf(err, "cannot write %s", p);
    snprintf(p, sizeof p, "%s.gp", f->path);
    if (!(f->gp = fopen(p, "w"))) {
        fclose(f->csv);
        return lm_errf(err, "cannot write %s", p);
    }
    lm__figure *fg = realloc(d->fig, (d->nfig + 1) * sizeof *fg);
    if (!fg) return lm_errf(err, "out of memory");
    d->fig = fg;
    fg += d->nfig++;
    fg->id = strdup(f->id);
    fg->title = strdup(title);
    fg->caption = strdup(caption);
    fg->drawn = 0;
    return LM_OK;
}

void lm__fig_script(lm__fig *f, int width, int height, const char *body) {
    fprintf(f->gp,
            "# %s: drawn by `lumos report` with gnuplot from %s.csv (run: gnuplot %s.gp)\n"
            "set encoding utf8\nset datafile separator ','\nset datafile columnheaders\n"
            "set termoption noenhanced\nset key outside right top\nset grid ytics lc rgb "
            "'#dddddd'\nset border 3\nset tics nomirror\n",
            f->id, f->id, f->id);
    fprintf(f->gp,
            "set terminal svg size %d,%d dynamic noenhanced font 'sans,10' background rgb 'white'\n"
            "set output '%s.svg'\n%s\nunset output\n",
            width, height, f->id, body);
    fprintf(f->gp,
            "set terminal pngcairo size %d,%d noenhanced font 'sans,9' background rgb 'white'\n"
            "set output '%s.png'\n%s\nunset output\n",
            width, height, f->id, body);
}

int lm__fig_end(lm__fig *f, char *err) {
    int bad = ferror(f->csv) | ferror(f->gp);
    bad |= fclose(f->csv) != 0;
    bad |= fclose(f->gp) != 0;
    if (bad) return lm_errf(err, "cannot write %s.csv or .gp (disk full?)", f->path);
    return LM_OK;
}

/* Draws every figure's script with gnuplot in DIR/figures, one process
 * each (a bad script spoils only its own figure), each given a minute. */
static void draw(lm_report_doc *d, const char *gnuplot) {
    char dir[2100];
    snprintf(dir, sizeof dir, "%s/figures", d->o.dir);
    size_t bad = 0;
    for (size_t i = 0; i < d->nfig; i++) {
        lm__figure *fg = &d->fig[i];
        if (d->o.progress)
            fprintf(stderr, "\rlumos report: drawing figure %zu of %zu", i + 1, d->nfig);
        char script[256], log[2400], e[LM_ERRLEN];
        snprintf(script, sizeof script, "%s.gp", fg->id);
        snprintf(log, sizeof log, "%s/%s.log", dir, fg->id);
        char *argv[] = {(char *)gnuplot, script, NULL};
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), status = -1;
        lm_child c;
        if (fd >= 0 && lm_spawn(argv, NULL, dir, 0, fd, &c, e) == LM_OK) {
            if (lm_child_wait(&c, 60000, &status) != LM_OK) {
                lm_child_stop(&c, 0);
                status = -1;
            }
        }
        if (fd >= 0) close(fd);
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            fg->drawn = 1;
            remove(log);
        } else if (bad++ == 0) {
            lm__report_note(d, "gnuplot failed on figure %s (see %s)", fg->id, log);
        }
    }
    if (d->o.progress && d->nfig) fputs("\r\033[K", stderr);
    if (bad > 1) lm__report_note(d, "gnuplot failed on %zu figures in all", bad);
}

int lm__report_figures(lm_report_doc *d, char *err) {
    char dir[2100];
    snprintf(dir, sizeof dir, "%s/figures", d->o.dir);
    lm_rmtree(dir);
    if (lm_mkdirs(dir, err) != LM_OK) return LM_ERR;
    for (size_t i = 0; i < sizeof makers / sizeof makers[0]; i++)
        if (makers[i](d, err) != LM_OK) return LM_ERR;
    char gp[4096];
    const char *prog = d->o.gnuplot ? d->o.gnuplot : "gnuplot";
    if (strchr(prog, '/'))
        snprintf(gp, sizeof gp, "%s", prog);
    else if (lm_which(prog, gp, sizeof gp) != LM_OK) {
        lm__report_note(d,
                        "gnuplot not found: the figures' data and scripts are in %s, no images "
                        "(scripts/setup installs gnuplot-nox)",
                        dir);
        return LM_OK;
    }
    draw(d, gp);
    return LM_OK;
}

void lm__fig_wide(FILE *csv, const lm__series *s, size_t ns) {
    size_t rows = 0;
    for (size_t i = 0; i < ns; i++) {
        if (s[i].n > rows) rows = s[i].n;
        char l[256];
        lm__fig_label(l, sizeof l, s[i].name);
        fprintf(csv, "%s%s %s,%s %s", i ? "," : "", l, s[i].xname, l, s[i].yname);
    }
    fputc('\n', csv);
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < ns; i++) {
            if (i) fputc(',', csv);
            lm__fig_num(csv, r < s[i].n ? s[i].x[r] : NAN);
            fputc(',', csv);
            lm__fig_num(csv, r < s[i].n ? s[i].y[r] : NAN);
        }
        fputc('\n', csv);
    }
}

int lm__fig_width(size_t clusters, size_t series) {
    /* A stack (one series) needs room for its label more than for its bar. */
    size_t w = 200 + clusters * (series == 1 ? 56 : series * 12 + 24);
    return w < 900 ? 900 : w > 4000 ? 4000 : (int)w;
}

void lm__fig_bars_body(char *out, size_t n, const char *title, const char *ylabel, int logy,
                       size_t nseries, int errorbars, int rotate) {
    size_t k = (size_t)snprintf(
        out, n,
        "set title '%s'\nset ylabel '%s'\nset style data histogram\n"
        "set style histogram %s gap 2\nset style fill solid 0.85 border -1\n"
        "set boxwidth 0.9\nset xtics %s scale 0\n%s"
        "set yrange [%s:*]\nplot ",
        title, ylabel, errorbars ? "errorbars lw 1" : "clustered",
        rotate ? "rotate by -40 left" : "", logy ? "set logscale y\n" : "", logy ? "*" : "0");
    size_t per = errorbars ? 3 : 1;
    for (size_t i = 0; i < nseries && k < n; i++) {
        size_t c = 2 + i * per;
        if (errorbars)
            k += (size_t)snprintf(out + k, n - k,
                                  "%s'%s.csv' using %zu:%zu:%zu%s title columnhead(%zu)",
                                  i ? ", " : "", "__ID__", c, c + 1, c + 2, i ? "" : ":xtic(1)", c);
        else
            k += (size_t)snprintf(out + k, n - k, "%s'%s.csv' using %zu%s title columnhead(%zu)",
                                  i ? ", " : "", "__ID__", c, i ? "" : ":xtic(1)", c);
    }
}

void lm__fig_stack_body(char *out, size_t n, const char *title, const char *ylabel, size_t nparts,
                        int rotate) {
    size_t k = (size_t)snprintf(out, n,
                                "set title '%s'\nset ylabel '%s'\nset style data histogram\n"
                                "set style histogram rowstacked\nset style fill solid 0.85 "
                                "border -1\nset boxwidth 0.75\nset xtics %s scale 0\n"
                                "set yrange [0:*]\nplot ",
                                title, ylabel, rotate ? "rotate by -40 left" : "");
    for (size_t i = 0; i < nparts && k < n; i++)
        k += (size_t)snprintf(out + k, n - k,
                              "%s'%s.csv' using (max0($%zu))%s title columnhead(%zu)",
                              i ? ", " : "", "__ID__", i + 2, i ? "" : ":xtic(1)", i + 2);
}

/* The body with the figure's id for __ID__, then the script. */
void lm__fig_finish_script(lm__fig *f, int width, int height, const char *body) {
    size_t need = strlen(body) + 64;
    for (const char *p = body; (p = strstr(p, "__ID__")); p += 6)
        need += strlen(f->id);
    char *b = malloc(need + 64);
    if (!b) return;
    size_t k = (size_t)snprintf(b, need, "max0(x) = (x < 0 ? 0 : x)\n");
    for (const char *p = body; *p;) {
        if (strncmp(p, "__ID__", 6) == 0) {
            k += (size_t)snprintf(b + k, need - k, "%s", f->id);
            p += 6;
        } else {
            b[k++] = *p++;
        }
    }
    b[k] = 0;
    lm__fig_script(f, width, height, b);
    free(b);
}
