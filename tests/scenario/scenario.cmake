# Scenario tests: the built `qts` run as a user would, on files written by
# the test. Each tests/scenario/test_*.sh is one test "scenario.<name>".
file(GLOB scenario_scripts CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/scenario/test_*.sh)
foreach(script ${scenario_scripts})
  get_filename_component(name ${script} NAME_WE)
  if(QTS_SANITIZE)
    # reports of background hosts fail the test too (sanitized.sh)
    add_test(NAME scenario.${name}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scenario/sanitized.sh ${script})
  else()
    add_test(NAME scenario.${name} COMMAND bash ${script})
  endif()
  math(EXPR timeout "120 * ${QTS_TEST_TIMEOUT_SCALE}")
  set_tests_properties(scenario.${name} PROPERTIES LABELS scenario
    ENVIRONMENT "${QTS_TEST_ENV}" TIMEOUT ${timeout} SKIP_RETURN_CODE 77
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endforeach()
