// Declarations only; see ../../README.md. ProcessGroupGloo.hpp needs nothing from this header.
#pragma once
