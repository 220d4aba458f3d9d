// Uppy with its tus plugin, as a page on any origin would use it: window.Uppy, window.Tus.
import Uppy from "@uppy/core";
import Tus from "@uppy/tus";
window.Uppy = Uppy;
window.Tus = Tus;
