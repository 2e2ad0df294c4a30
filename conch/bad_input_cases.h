// The generated cases of conch/bad_input_test.cc: bad command lines for
// every flag and argument of every subcommand of conch and of conchd,
// each put into a valid command line of some subcommand, drawn from
// families of bad values and a seeded generator (the same seed gives the
// same cases).
//
// Thread-compatible; a test-only library.
//
// Example:
//   std::vector<BadInputCase> cases =
//       MakeBadInputCases(15, etcd.endpoint(), "/t/x/", files_dir);
#ifndef CONCH_CONCH_BAD_INPUT_CASES_H_
#define CONCH_CONCH_BAD_INPUT_CASES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace conch {

// One bad command line.
struct BadInputCase {
  std::string what;               // the family and value, for messages
  std::vector<std::string> argv;  // binary first
  std::map<std::string, std::string> env;
  bool conchd = false;
  std::string names;  // the message must name this (a variable)
};

// The cases for `seed`: commands dial `endpoint` under `prefix`; `files`
// is a directory holding the unsuitable files the test wrote (notpem.txt,
// empty.pem, broken.pem, key.pem, cert.pem, fifo).
std::vector<BadInputCase> MakeBadInputCases(uint64_t seed,
                                            const std::string& endpoint,
                                            const std::string& prefix,
                                            const std::string& files);

}  // namespace conch

#endif  // CONCH_CONCH_BAD_INPUT_CASES_H_
