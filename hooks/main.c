#include <stdio.h>
int main(void) { puts("slipway " SLIPWAY_VERSION); return 0; }
