// conch's version string, shown by --version and stored in daemon records.
#ifndef CONCH_CONCH_VERSION_H_
#define CONCH_CONCH_VERSION_H_

namespace conch {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace conch

#endif  // CONCH_CONCH_VERSION_H_
