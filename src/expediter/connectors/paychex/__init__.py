"""Paychex Flex: the Standard Payroll Import (SPI) file of a pay period."""
