// plot.h: the training curves as a PNG (cairo): losses (log scale) against
// the step on the left, held-out field F1 on the right, read from the CSV the
// training loop writes. A picture for people; the CSV is the record.
#ifndef DS_PLOT_H
#define DS_PLOT_H

// Reads csv_path (train/loop.c's columns) and writes png_path. 0 or DS_E_IO / DS_E_FORMAT.
int ds_plot_curves(const char *csv_path, const char *png_path);

#endif
