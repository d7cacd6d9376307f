/* Empty: makes automake link with the C++ driver. */
