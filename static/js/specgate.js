// Specgate's page script. Pages work without it; it upgrades them.
"use strict";
