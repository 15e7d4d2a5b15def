# Scenario tests: the built `qts` run as a user would, on files written by
# the test. Each tests/scenario/test_*.sh is one test "scenario.<name>".
file(GLOB scenario_scripts CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/scenario/test_*.sh)
foreach(script ${scenario_scripts})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME scenario.${name} COMMAND bash ${script})
  set_tests_properties(scenario.${name} PROPERTIES LABELS scenario
    ENVIRONMENT "${QTS_TEST_ENV}" TIMEOUT 120 SKIP_RETURN_CODE 77
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endforeach()
