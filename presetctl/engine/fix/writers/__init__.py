"""Writers per format family: each turns a fix into byte splices that keep everything else intact."""
