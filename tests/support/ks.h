/* ks.h -- the one-sample Kolmogorov-Smirnov test for the trace tests: the
 * statistic of a sample against a fully specified distribution, and its
 * critical value at alpha = 0.01. Written here, not taken from a library,
 * so that the method is on the page. */
#ifndef LM_TEST_KS_H
#define LM_TEST_KS_H

#include <stddef.h>

/* D_n = sup_x |F_n(x) - F(x)| of the n samples x (sorted in place) against
 * the CDF cdf (arg is passed through): the largest of (i + 1) / n - F(x_i)
 * and F(x_i) - i / n over i = 0..n-1. */
double lm_test_ks(double *x, size_t n, double (*cdf)(double x, const void *arg), const void *arg);

/* The critical value of D_n at alpha = 0.01 with Stephens' finite-n
 * correction: c / (sqrt(n) + 0.12 + 0.11 / sqrt(n)), c = sqrt(-ln(0.005) / 2)
 * = 1.6276 (the asymptotic Kolmogorov quantile). D_n above it rejects the
 * distribution at the 1 % level. */
double lm_test_ks_critical_01(size_t n);

/* CDFs for lm_test_ks: Exp with rate *(const double *)arg; U(0, 1). */
double lm_test_cdf_exp(double x, const void *rate);
double lm_test_cdf_uniform01(double x, const void *unused);

#endif
