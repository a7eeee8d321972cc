"""Human output: tables for the terminal and the histogram chart."""
